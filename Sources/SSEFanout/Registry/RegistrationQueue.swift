import Logging
import Synchronization

/// Applies registry writes in the order they were enqueued: a connection's unregistration can never
/// overtake its registration, nor a channel's leave its join.
///
/// Whatever has queued up while a write was under way goes to the registry as one batch
/// (`Registry.apply`: one Redis pipeline), so that under churn a round trip, and the thread hops
/// around it, serve many streams instead of one. Batches run one after another, in order.
final class RegistrationQueue: Sendable {
    enum Operation: Sendable {
        case register(ConnectionRecord, joinedChannels: [String])
        case unregister(ConnectionRecord, leftChannels: [String])
        /// Completes once everything enqueued before it is done.
        case barrier

        var write: RegistryWrite? {
            switch self {
            case .register(let record, let joined): .register(record, joinedChannels: joined)
            case .unregister(let record, let left): .unregister(record, leftChannels: left)
            case .barrier: nil
            }
        }
    }

    private struct Item: Sendable {
        var operation: Operation
        var done: (@Sendable (Error?) -> Void)?
    }

    private struct State {
        var items: [Item] = []
        /// `run` waiting for the next item.
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    /// At most this many writes go in one batch, so that one pipeline stays a bounded size
    /// (re-registering every live stream after a Redis restart enqueues them all at once).
    static let maxBatch = 256

    private let registry: any Registry
    private let logger: Logger
    private let state = Mutex(State())

    init(registry: any Registry, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    /// Enqueues without waiting; `done` runs after the write, with its error if it failed.
    /// Once the queue has finished, operations are dropped.
    func enqueue(_ operation: Operation, done: (@Sendable (Error?) -> Void)? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            state.items.append(Item(operation: operation, done: done))
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Waits until every write enqueued so far has been applied.
    func drain() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            enqueue(.barrier) { _ in waiter.resume() }
        }
    }

    /// Runs until `finish()` (or until its task is cancelled) and everything enqueued before is applied;
    /// one task applies the writes.
    func run() async {
        await withTaskCancellationHandler {
            while let batch = await nextBatch() {
                await apply(batch)
            }
        } onCancel: {
            finish()
        }
    }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Everything queued (up to `maxBatch`), waiting for an item if there is none; nil once finished
    /// and empty.
    private func nextBatch() async -> [Item]? {
        while true {
            let (batch, isFinished) = state.withLock { state -> ([Item]?, Bool) in
                guard !state.items.isEmpty else { return (nil, state.finished) }
                guard state.items.count > Self.maxBatch else {
                    defer { state.items = [] }
                    return (state.items, false)
                }
                defer { state.items.removeFirst(Self.maxBatch) }
                return (Array(state.items.prefix(Self.maxBatch)), false)
            }
            if let batch { return batch }
            if isFinished { return nil }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard state.items.isEmpty, !state.finished else { return true }
                    state.waiter = waiter
                    return false
                }
                if resumeNow { waiter.resume() }
            }
        }
    }

    /// Writes the batch, then runs each item's `done`, in order, with its own write's error.
    private func apply(_ batch: [Item]) async {
        let writes = batch.compactMap(\.operation.write)
        var failures = (writes.isEmpty ? [] : await registry.apply(writes)).makeIterator()
        for item in batch {
            var failure: (any Error)?
            if item.operation.write != nil, let error = failures.next() ?? nil {
                failure = error
                logger.error("registry write failed", metadata: ["operation": "\(item.operation)", "error": "\(error)"])
            }
            item.done?(failure)
        }
    }
}
