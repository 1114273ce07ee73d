import Foundation
import Metrics
import Prometheus
import NIOConcurrencyHelpers
import Synchronization

/// A node's Prometheus metrics, served at `GET /metrics` (README, "Metrics"). They are made through
/// swift-metrics with a factory over a registry of the node's own, not the process-wide
/// `MetricsSystem`, so several nodes in one process (the tests) keep theirs apart.
///
/// The stream path counts in bulk: deliveries once per pass by the number of streams written, the
/// delivery latency once per event per pass, not per stream.
public final class NodeMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    /// Open streams on this node, read from the hub when scraped.
    let connections: Metrics.Gauge
    let opened: Metrics.Counter
    private let closed: [CloseReason: Metrics.Counter]
    private let published: [Address.Kind: Metrics.Counter]
    let deliveries: Metrics.Counter
    /// From accepted by the routing node to written to the streams by the delivering node.
    let deliveryLatency: Metrics.Timer
    private let publishErrors = NIOLockedValueBox<[String: Metrics.Counter]>([:])
    let slowClientCloses: Metrics.Counter
    private let resumes = NIOLockedValueBox<[String: Metrics.Counter]>([:])
    /// Publish to RabbitMQ until its confirm.
    let amqpConfirm: Metrics.Timer
    /// A Redis command (or pipeline) until its answer.
    let redisCommand: Metrics.Timer
    /// 1 while `/readyz` says ready.
    let ready: Metrics.Gauge
    /// The same counts as plain numbers, for `totals` (Prometheus's own are not read back).
    private let publishedCount = Atomic<Int>(0)
    private let deliveredCount = Atomic<Int>(0)
    private let latencyMicroseconds = Atomic<Int>(0)
    private let latencyCount = Atomic<Int>(0)

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        let fine: [Duration] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
            .map { .nanoseconds(Int64($0 * 1e9)) }
        factory.durationHistogramBuckets = [
            "sse_delivery_latency_seconds": fine + [.seconds(5), .seconds(10)],
            "sse_amqp_confirm_seconds": fine, "sse_redis_command_seconds": fine,
        ]
        self.factory = factory
        connections = Metrics.Gauge(label: "sse_connections", factory: factory)
        opened = Metrics.Counter(label: "sse_connections_opened_total", factory: factory)
        closed = Dictionary(uniqueKeysWithValues: CloseReason.allCases.map {
            ($0, Metrics.Counter(label: "sse_connections_closed_total", dimensions: [("reason", $0.rawValue)], factory: factory))
        })
        published = Dictionary(uniqueKeysWithValues: Address.Kind.allCases.map {
            ($0, Metrics.Counter(label: "sse_events_published_total", dimensions: [("target", $0.rawValue)], factory: factory))
        })
        deliveries = Metrics.Counter(label: "sse_deliveries_total", factory: factory)
        deliveryLatency = Metrics.Timer(label: "sse_delivery_latency_seconds", factory: factory)
        slowClientCloses = Metrics.Counter(label: "sse_slow_client_closes_total", factory: factory)
        amqpConfirm = Metrics.Timer(label: "sse_amqp_confirm_seconds", factory: factory)
        redisCommand = Metrics.Timer(label: "sse_redis_command_seconds", factory: factory)
        ready = Metrics.Gauge(label: "sse_ready", factory: factory)
        // Shown at 0 from the start, so a dashboard's rate() has a series before the first one happens.
        for code in ["unavailable", "in_flight"] { _ = counter(code, in: publishErrors, label: "sse_publish_errors_total", dimension: "reason") }
        for result in ["resumed", "reset", "failed"] { _ = counter(result, in: resumes, label: "sse_resume_total", dimension: "result") }
    }

    func closed(_ reason: CloseReason) {
        closed[reason]?.increment()
        if reason == .slowClient { slowClientCloses.increment() }
    }

    func published(_ kind: Address.Kind, count: Int = 1) {
        published[kind]?.increment(by: count)
        publishedCount.add(count, ordering: .relaxed)
    }

    /// Streams written to in a pass (counted once per pass, not per stream).
    func delivered(_ count: Int) {
        deliveries.increment(by: count)
        deliveredCount.add(count, ordering: .relaxed)
    }

    /// One event's time from its acceptance to its pass here.
    func deliveryLatency(microseconds: Int64) {
        deliveryLatency.recordMicroseconds(microseconds)
        latencyMicroseconds.add(Int(microseconds), ordering: .relaxed)
        latencyCount.add(1, ordering: .relaxed)
    }

    /// What the node counted so far, for its registry record.
    public var totals: NodeTotals {
        NodeTotals(
            published: publishedCount.load(ordering: .relaxed), delivered: deliveredCount.load(ordering: .relaxed),
            latencyMicroseconds: latencyMicroseconds.load(ordering: .relaxed), latencyCount: latencyCount.load(ordering: .relaxed),
            at: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// A publish refused or failed, by its error code (`unavailable`, `in_flight`, `invalid_json`, …).
    func publishError(_ code: String) {
        counter(code, in: publishErrors, label: "sse_publish_errors_total", dimension: "reason").increment()
    }

    /// A stream that asked to resume: `resumed` (the backlog replayed), `reset` (too much was missed,
    /// or the token could not be read), `failed` (history unreadable).
    func resume(_ result: String) {
        counter(result, in: resumes, label: "sse_resume_total", dimension: "result").increment()
    }

    /// The text exposition of every metric, with `openStreams` as `sse_connections`.
    public func exposition(openStreams: Int) -> [UInt8] {
        connections.record(openStreams)
        return registry.emitToBuffer()
    }

    /// Labelled counters made on first use; their values come from the node's own fixed sets of codes.
    private func counter(_ value: String, in cache: NIOLockedValueBox<[String: Metrics.Counter]>, label: String, dimension: String) -> Metrics.Counter {
        cache.withLockedValue { counters in
            if let counter = counters[value] { return counter }
            let counter = Metrics.Counter(label: label, dimensions: [(dimension, value)], factory: factory)
            counters[value] = counter
            return counter
        }
    }
}
