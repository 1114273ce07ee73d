import NIOConcurrencyHelpers

/// Gathers the broker's answers for one batch's messages without a task waiting on them: per event,
/// how many of its messages were routed and the first failure, handed over once the last answer is in.
final class BatchConfirms: Sendable {
    private struct State {
        var waiting: Int
        var routed: [Int]
        var failures: [String?]
    }

    private let state: NIOLockedValueBox<State>
    private let done: @Sendable ([Int], [String?]) -> Void

    private init(messages: Int, items: Int, done: @escaping @Sendable ([Int], [String?]) -> Void) {
        state = NIOLockedValueBox(State(waiting: messages, routed: Array(repeating: 0, count: items), failures: Array(repeating: nil, count: items)))
        self.done = done
    }

    /// Calls `done(routed, failures)` once every send is answered (at once when there are none).
    static func await(_ sends: [BatchDelivery.Send], items: Int, done: @escaping @Sendable (_ routed: [Int], _ failures: [String?]) -> Void) {
        guard !sends.isEmpty else { return done(Array(repeating: 0, count: items), Array(repeating: nil, count: items)) }
        let confirms = BatchConfirms(messages: sends.count, items: items, done: done)
        for send in sends {
            send.handle.whenRouted { outcome in confirms.record(outcome, for: send.items) }
        }
    }

    private func record(_ outcome: Result<Bool, any Error>, for items: [Int]) {
        let finished = state.withLockedValue { state -> ([Int], [String?])? in
            switch outcome {
            case .success(true): for index in items { state.routed[index] += 1 }
            case .success(false): break
            case .failure(let error): for index in items where state.failures[index] == nil { state.failures[index] = "\(error)" }
            }
            state.waiting -= 1
            return state.waiting == 0 ? (state.routed, state.failures) : nil
        }
        if let (routed, failures) = finished { done(routed, failures) }
    }
}
