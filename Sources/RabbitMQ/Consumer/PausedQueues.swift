import NIOConcurrencyHelpers

/// The queues a consumer is told not to consume for now. Set from any thread; the consumer's thread
/// reads it on every turn and cancels or starts its consumers to match, and a reconnect consumes only
/// the queues not paused.
final class PausedQueues: Sendable {
    private let queues = NIOLockedValueBox<Set<String>>([])

    func pause(_ queue: String) {
        _ = queues.withLockedValue { $0.insert(queue) }
    }

    func resume(_ queue: String) {
        _ = queues.withLockedValue { $0.remove(queue) }
    }

    func contains(_ queue: String) -> Bool {
        queues.withLockedValue { $0.contains(queue) }
    }
}
