import NIOConcurrencyHelpers

/// A completion that never runs inside the call it was handed to, whatever the store behind it does:
/// an answer known at once (nothing to send, an outcome already settled, a client already shut down)
/// would otherwise run it there, and a caller holding a lock, or on an event loop, could deadlock or
/// re-enter. An answer that arrives before the call returned goes to a task; any later one runs where
/// it arrived.
final class DeferredCompletion<Value: Sendable>: Sendable {
    private let returned = NIOLockedValueBox(false)
    private let completion: @Sendable (Value) -> Void

    init(_ completion: @escaping @Sendable (Value) -> Void) {
        self.completion = completion
    }

    /// The call that took the completion is returning (call it in a `defer`).
    func callReturned() {
        returned.withLockedValue { $0 = true }
    }

    func callAsFunction(_ value: Value) {
        if returned.withLockedValue({ $0 }) {
            completion(value)
        } else {
            let completion = self.completion
            Task { completion(value) }
        }
    }
}
