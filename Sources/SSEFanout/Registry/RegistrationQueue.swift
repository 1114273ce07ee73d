import Logging
import NIOConcurrencyHelpers

/// Applies registry writes in the order they were enqueued: a connection's unregistration can never
/// overtake its registration, nor a channel's leave its join.
///
/// One batch is with the registry at a time. Whatever queues up meanwhile goes as the next batch
/// (`Registry.apply`: one Redis pipeline), so that under churn a round trip, and the thread hops
/// around it, serve many streams instead of one. No task sits in between: the first write starts on
/// the enqueuing thread, and each batch's completion (on the loop whose Redis connection answered) runs the items'
/// `done` and sends the next batch.
///
/// Each write's outcome says what it changed cluster-wide (`PresenceChange`); the queue hands that to
/// the `LifecyclePublisher`, on the same thread, before the item's `done`.
final class RegistrationQueue: Sendable {
    enum Operation: Sendable {
        case register(ConnectionRecord, joined: [Address])
        /// `reason`: why the stream ended, for its `connection.closed`.
        case unregister(ConnectionRecord, left: [Address], reason: CloseReason = .clientClosed)
        /// Completes once everything enqueued before it is done.
        case barrier

        var write: RegistryWrite? {
            switch self {
            case .register(let record, let joined): .register(record, joined: joined)
            case .unregister(let record, let left, _): .unregister(record, left: left)
            case .barrier: nil
            }
        }

        var connectionID: String? {
            switch self {
            case .register(let record, _), .unregister(let record, _, _): record.connectionID
            case .barrier: nil
            }
        }
    }

    private struct Item: Sendable {
        var operation: Operation
        var done: (@Sendable (Error?) -> Void)?
    }

    private struct State {
        /// Its turn is booked while a batch is with the registry; new items wait for the next one.
        var items = DrainQueue<Item>()
        var finished = false
        /// A write failed since `takeMissedWrites` was last asked: the registry may disagree with the node.
        var missedWrites = false
        /// `run` waiting for the queue to finish.
        var runner: CheckedContinuation<Void, Never>?

        /// `run`'s continuation once the queue has finished and nothing is left to write.
        mutating func takeRunnerIfDone() -> CheckedContinuation<Void, Never>? {
            guard finished, !items.isTurnBooked, items.isEmpty else { return nil }
            defer { runner = nil }
            return runner
        }
    }

    /// At most this many writes go in one batch, so that one pipeline stays a bounded size
    /// (re-registering every live stream after a Redis restart enqueues them all at once).
    static let maxBatch = 256

    private let registry: any Registry
    private let lifecycle: LifecyclePublisher?
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private let failures = RateLimitedLog()

    /// Times the registry's writes (`sse_redis_command_seconds`).
    private let metrics: NodeMetrics?

    init(registry: any Registry, lifecycle: LifecyclePublisher? = nil, logger: Logger, metrics: NodeMetrics? = nil) {
        self.registry = registry
        self.lifecycle = lifecycle
        self.logger = logger
        self.metrics = metrics
    }

    /// Enqueues without waiting; `done` runs after the write, with its error if it failed.
    /// Once the queue has finished, operations are dropped.
    func enqueue(_ operation: Operation, done: (@Sendable (Error?) -> Void)? = nil) {
        let batch = state.withLockedValue { state -> [Item]? in
            guard !state.finished else { return nil }
            // The item that books the turn starts the first batch here, on the enqueuing thread.
            let startsWriting = state.items.append(Item(operation: operation, done: done))
            return startsWriting ? state.items.next(limit: Self.maxBatch) : nil
        }
        if let batch { write(batch) }
    }

    /// Waits until every write enqueued so far has been applied.
    func drain() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            enqueue(.barrier) { _ in waiter.resume() }
        }
    }

    /// Returns once `finish()` was called (or its task cancelled) and the writes enqueued before are
    /// applied. The writes do not need it to run: they start as they are enqueued.
    func run() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (runner: CheckedContinuation<Void, Never>) in
                let runNow = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                    state.runner = runner
                    return state.takeRunnerIfDone()
                }
                runNow?.resume()
            }
        } onCancel: {
            finish()
        }
    }

    /// Whether a write failed since the last call (and clears it): the node then compares the registry
    /// with its streams once Redis answers again, however short the outage was.
    func takeMissedWrites() -> Bool {
        state.withLockedValue { state in
            defer { state.missedWrites = false }
            return state.missedWrites
        }
    }

    func finish() {
        state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            return state.takeRunnerIfDone()
        }?.resume()
    }

    /// Sends `batch` to the registry; batches without writes (only barriers) complete at once.
    private func write(_ batch: [Item]) {
        var batch = batch
        while true {
            let writes = batch.compactMap(\.operation.write)
            if !writes.isEmpty {
                let started = ContinuousClock.now
                registry.apply(writes) { [self, batch] outcomes in
                    metrics?.redisCommand.recordInterval(since: started)
                    if let next = complete(batch, outcomes: outcomes) { write(next) }
                }
                return
            }
            guard let next = complete(batch, outcomes: []) else { return }
            batch = next
        }
    }

    /// Publishes what each write changed and runs each item's `done`, in order, with its own write's
    /// error; returns the next batch, if any queued meanwhile.
    private func complete(_ batch: [Item], outcomes: [Result<PresenceChange, any Error>]) -> [Item]? {
        var outcomes = outcomes.makeIterator()
        for item in batch {
            var failure: (any Error)?
            if item.operation.write != nil, let outcome = outcomes.next() {
                switch (outcome, item.operation) {
                case (.failure(let error), _):
                    failure = error
                    state.withLockedValue { $0.missedWrites = true }
                    // While Redis is away every stream's write fails: one line now and then, and no
                    // record's user, device or channels in it.
                    failures.note("registry writes failing", logger: logger, metadata: ["error": "\(error)", "connection": "\(item.operation.connectionID ?? "-")"])
                case (.success(let change), .register(let record, _)):
                    lifecycle?.opened(record, change)
                case (.success(let change), .unregister(let record, _, let reason)):
                    lifecycle?.closed(record, change, reason: reason)
                case (.success, .barrier):
                    break
                }
            }
            item.done?(failure)
        }
        let (next, runner) = state.withLockedValue { state -> ([Item]?, CheckedContinuation<Void, Never>?) in
            if let next = state.items.next(limit: Self.maxBatch) { return (next, nil) }
            return (nil, state.takeRunnerIfDone())
        }
        runner?.resume()
        return next
    }
}
