import Foundation
import Logging
import NIOConcurrencyHelpers

/// Publishes the lifecycle events of registry writes (`LifecycleEvent.events`) to `sse.lifecycle`.
///
/// The stream path never waits for it: events are handed to the broker, which queues them without
/// suspending, and confirms are counted on the broker's thread. Only a failed send (RabbitMQ away)
/// starts a task, which sends what failed again every second for up to a minute; such events may
/// then arrive late (consumers order by `seq`), and an event whose confirm was lost with the
/// connection may arrive twice.
final class LifecyclePublisher: Sendable {
    private struct Pending: Sendable {
        var event: String
        var body: [UInt8]
        var firstTried: ContinuousClock.Instant
        /// Its place among the events handed over: retries go out in this order, whatever order their
        /// failures were reported in.
        var order: UInt64
    }

    private struct State {
        /// Sent, not yet confirmed, or waiting to be sent again.
        var unsettled = 0
        /// The first failure starts the retry task, which runs until nothing is due.
        var retries = DrainQueue<Pending>()
        var nextOrder: UInt64 = 0
    }

    private let broker: any Broker
    private let logger: Logger
    /// The kinds published (`lifecycle.events`): a node under heavy churn may leave out the per-connection ones.
    private let kinds: Set<LifecycleEvent.Kind>
    private let now: @Sendable () -> Int64
    private let state = NIOLockedValueBox(State())
    private let failureLog = RateLimitedLog()

    /// How long an event is retried while RabbitMQ is unreachable.
    static let retryWindow: Duration = .seconds(60)
    /// Events kept for retrying; beyond, the oldest are dropped.
    static let maxRetries = 100_000

    init(
        broker: any Broker, logger: Logger, kinds: Set<LifecycleEvent.Kind> = Set(LifecycleEvent.Kind.allCases),
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.kinds = kinds
        self.broker = broker
        self.logger = logger
        self.now = now
    }

    /// A connection opened (`change` says whether it was the user's first, a channel's first).
    func opened(_ record: ConnectionRecord, _ change: PresenceChange) {
        publish(LifecycleEvent.events(for: record, change, reason: nil, time: now()))
    }

    /// A connection closed.
    func closed(_ record: ConnectionRecord, _ change: PresenceChange, reason: CloseReason) {
        publish(LifecycleEvent.events(for: record, change, reason: reason, time: now()))
    }

    /// Connections removed on behalf of their node (`Registry.removeEntries(ofNode:)`).
    func removed(_ connections: [RemovedConnection], reason: CloseReason) {
        let time = now()
        for connection in connections {
            publish(LifecycleEvent.events(for: connection.record, connection.change, reason: reason, time: time))
        }
    }

    private func publish(_ events: [LifecycleEvent]) {
        let events = kinds.count == LifecycleEvent.Kind.allCases.count ? events : events.filter { kinds.contains($0.kind) }
        guard !events.isEmpty else { return }
        let first = state.withLockedValue { state in
            state.unsettled += events.count
            defer { state.nextOrder += UInt64(events.count) }
            return state.nextOrder
        }
        let started = ContinuousClock.now
        for (offset, event) in events.enumerated() {
            send(Pending(event: event.kind.rawValue, body: event.encode(), firstTried: started, order: first + UInt64(offset)))
        }
    }

    private func send(_ pending: Pending) {
        broker.publishLifecycle(pending.body, event: pending.event).whenRouted { [self] result in
            if case .failure(let error) = result {
                failed(pending, error)
            } else {
                state.withLockedValue { $0.unsettled -= 1 }
            }
        }
    }

    private func failed(_ pending: Pending, _ error: any Error) {
        let startRetrying = state.withLockedValue { state -> Bool in
            if state.retries.count >= Self.maxRetries {
                state.retries.removeOldest()
                state.unsettled -= 1
            }
            return state.retries.append(pending)
        }
        failureLog.note("lifecycle events not published yet; retrying", logger: logger, metadata: ["error": "\(error)"])
        if startRetrying { Task { await retry() } }
    }

    /// Sends what failed again, every second, until nothing is left; gives up on events older than
    /// `retryWindow`.
    private func retry() async {
        while true {
            try? await Task.sleep(for: .seconds(1))
            let cutoff = ContinuousClock.now - Self.retryWindow
            let (due, expired) = state.withLockedValue { state -> ([Pending], Int) in
                let taken = state.retries.take()
                let due = taken.filter { $0.firstTried >= cutoff }.sorted { $0.order < $1.order }
                let expired = taken.count - due.count
                state.unsettled -= expired
                if due.isEmpty { _ = state.retries.endTurnIfEmpty() }
                return (due, expired)
            }
            if expired > 0 { logger.error("lifecycle events dropped: RabbitMQ unreachable", metadata: ["events": "\(expired)"]) }
            guard !due.isEmpty else { return }
            for pending in due { send(pending) }
        }
    }

    /// Waits until every event handed over so far is confirmed (or given up), for at most `timeout`:
    /// before the broker closes on shutdown.
    func settle(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while state.withLockedValue({ $0.unsettled > 0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
