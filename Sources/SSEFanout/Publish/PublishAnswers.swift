import NIOConcurrencyHelpers

/// The answers to one `POST /publish`, gathered as the router completes its publications (from any
/// thread), and their JSON: `{"id": "...", "nodes": 2, "stored": true}` per publication, with
/// `"duplicate": true` for a repeated id, or `{"error": "unavailable", "message": "..."}`.
final class PublishAnswers: Sendable {
    typealias Outcome = Result<Router.Result, Router.Failure>

    private struct State {
        var outcomes: [Outcome?]
        var missing: Int
    }

    private let state: NIOLockedValueBox<State>

    init(count: Int) {
        state = NIOLockedValueBox(State(outcomes: Array(repeating: nil, count: count), missing: count))
    }

    /// Records one outcome; returns all of them once the last one is in.
    func set(_ index: Int, _ outcome: Outcome) -> [Outcome]? {
        state.withLockedValue { state in
            guard state.outcomes[index] == nil else { return nil }
            state.outcomes[index] = outcome
            state.missing -= 1
            return state.missing == 0 ? state.outcomes.map { $0! } : nil
        }
    }

    /// `detailed`: a failure says what the store answered (host, port, error), for a full-rights
    /// credential only; others learn which store was away.
    static func encode(_ outcome: Outcome, detailed: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        append(outcome, detailed: detailed, to: &out)
        return out
    }

    static func encode(_ outcomes: [Outcome], detailed: Bool = true) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, outcome) in outcomes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            append(outcome, detailed: detailed, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    private static func append(_ outcome: Outcome, detailed: Bool, to out: inout [UInt8]) {
        switch outcome {
        case .success(let routed):
            out.append(contentsOf: routed.duplicate ? #"{"duplicate":true,"id":"#.utf8 : #"{"id":"#.utf8)
            JSONString.append(routed.id, to: &out)
            out.append(contentsOf: #","nodes":\#(routed.nodes),"stored":\#(routed.stored)}"#.utf8)
        case .failure(let failure):
            out.append(contentsOf: #"{"error":""#.utf8)
            out.append(contentsOf: failure.code.utf8)
            out.append(contentsOf: #"","message":"#.utf8)
            JSONString.append(detailed ? failure.description : failure.summary, to: &out)
            out.append(UInt8(ascii: "}"))
        }
    }
}
