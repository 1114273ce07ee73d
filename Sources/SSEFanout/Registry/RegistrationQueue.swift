import Logging

/// Applies registry writes one at a time, in the order they were enqueued: a connection's
/// unregistration can never overtake its registration, nor a channel's leave its join.
final class RegistrationQueue: Sendable {
    enum Operation: Sendable {
        case register(ConnectionRecord, joinedChannels: [String])
        case unregister(ConnectionRecord, leftChannels: [String])
        /// Completes once everything enqueued before it is done.
        case barrier
    }

    private struct Item: Sendable {
        var operation: Operation
        var done: (@Sendable (Error?) -> Void)?
    }

    private let registry: any Registry
    private let logger: Logger
    private let stream: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation

    init(registry: any Registry, logger: Logger) {
        self.registry = registry
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: Item.self)
    }

    /// Enqueues without waiting; `done` runs after the write, with its error if it failed.
    func enqueue(_ operation: Operation, done: (@Sendable (Error?) -> Void)? = nil) {
        continuation.yield(Item(operation: operation, done: done))
    }

    /// Waits until every write enqueued so far has been applied.
    func drain() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            enqueue(.barrier) { _ in waiter.resume() }
        }
    }

    /// Runs until `finish()`; one task applies the writes.
    func run() async {
        for await item in stream {
            var failure: Error?
            do {
                switch item.operation {
                case .register(let record, let joined):
                    try await registry.register(record, joinedChannels: joined)
                case .unregister(let record, let left):
                    try await registry.unregister(record, leftChannels: left)
                case .barrier:
                    break
                }
            } catch {
                failure = error
                logger.error("registry write failed", metadata: ["operation": "\(item.operation)", "error": "\(error)"])
            }
            item.done?(failure)
        }
    }

    func finish() {
        continuation.finish()
    }
}
