import NIOConcurrencyHelpers

/// Joins a batch's two Redis answers, the history step and the registry lookup, which are sent one
/// right after the other and answer on the store's thread: whichever comes second calls `done` there.
final class BatchLookup: Sendable {
    typealias Admitted = Result<[HistoryAdmission.Outcome], any Error>
    typealias Found = Result<[Set<String>], any Error>

    private struct State {
        var admitted: Admitted?
        var found: Found?
    }

    private let state = NIOLockedValueBox(State())
    private let done: @Sendable (Admitted, Found) -> Void

    init(done: @escaping @Sendable (Admitted, Found) -> Void) {
        self.done = done
    }

    func admitted(_ result: Admitted) {
        let found = state.withLockedValue { state in
            state.admitted = result
            return state.found
        }
        if let found { done(result, found) }
    }

    func found(_ result: Found) {
        let admitted = state.withLockedValue { state in
            state.found = result
            return state.admitted
        }
        if let admitted { done(admitted, result) }
    }
}
