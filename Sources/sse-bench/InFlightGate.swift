import NIOConcurrencyHelpers

/// Counts work in progress and lets one task wait until fewer than some number are in progress.
final class InFlightGate: Sendable {
    private struct State {
        var count = 0
        var waiter: (limit: Int, continuation: CheckedContinuation<Void, Never>)?
    }

    private let state = NIOLockedValueBox(State())

    var count: Int { state.withLockedValue { $0.count } }

    func enter() {
        state.withLockedValue { $0.count += 1 }
    }

    func leave() {
        let resume = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.count -= 1
            guard let waiter = state.waiter, state.count < waiter.limit else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        resume?.resume()
    }

    /// Returns once fewer than `limit` are in progress (at once if they already are). One waiter at a time.
    func waitUntil(below limit: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> Bool in
                guard state.count >= limit else { return true }
                state.waiter = (limit, continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
