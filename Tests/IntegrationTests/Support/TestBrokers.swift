import Logging
import NIOConcurrencyHelpers
import RabbitMQ
import SSEFanout
import Testing

/// The started brokers of one test's cluster (`BrokerKind.make`), and what a backend around them
/// would do and see: publish to `sse.ingress`, listen to `sse.lifecycle`, read `sse.poison`.
final class TestBrokers: Sendable {
    struct Node: Sendable {
        let id: String
        let broker: any Broker
        let received: ReceivedDeliveries
        /// What the broker logged (RabbitMQ's consumer says when a queue's consumption changed).
        let lines: CapturingLogHandler.Lines
    }

    /// A message a backend took from one of the exchanges or queues it reads.
    struct Taken: Sendable, Equatable {
        var text: String
        /// The lifecycle event's name (routing key), or the parked message's reason.
        var label: String
    }

    let kind: BrokerKind
    let nodes: [Node]
    private let producer: AMQPPublisher?
    private let listeners = NIOLockedValueBox<[AMQPConsumer]>([])
    private let taken = NIOLockedValueBox<(lifecycle: [Taken], parked: [Taken])>(([], []))
    private let shutDown = NIOLockedValueBox<Set<String>>([])

    init(kind: BrokerKind, nodes: [Node], producer: AMQPPublisher?) {
        self.kind = kind
        self.nodes = nodes
        self.producer = producer
    }

    /// What a producer publishing to `sse.ingress` does.
    func publishToIngress(_ text: String) async throws {
        switch kind {
        case .inProcess:
            try inProcessBroker.publishToIngress(Array(text.utf8))
        case .rabbitMQ:
            let outcome = try await #require(producer).publish(exchange: BrokerTopology.ingressExchange, routingKey: "", body: Array(text.utf8))
            guard outcome == .confirmed else { throw Refused(what: "the ingress publish", outcome: "\(outcome)") }
        }
    }

    /// `consumeSharedQueues` on `node`, returning once it took effect (RabbitMQ's consumer cancels and
    /// consumes on its own thread: it says so in its log).
    func consumeSharedQueues(_ consume: Bool, on node: Node) async throws {
        let line = consume ? "consumer consumes a queue" : "consumer stopped consuming a queue"
        let changes = { node.lines.all.count { $0.contains(line) && $0.contains("queue=\(BrokerTopology.ingressQueue)") } }
        let before = changes()
        node.broker.consumeSharedQueues(consume)
        guard kind == .rabbitMQ else { return }
        try await TestEnvironment.eventually("the consumer follows consumeSharedQueues(\(consume))") { changes() > before }
    }

    /// Listens to `sse.lifecycle` (every event) from now on, as a backend's queue bound with `#` does.
    func listenToLifecycle() async throws {
        switch kind {
        case .inProcess:
            // The in-process broker keeps what it published: only what comes after now counts.
            let kept = try inProcessBroker.lifecycleEvents.count
            lifecycleHeardFrom.withLockedValue { $0 = kept }
        case .rabbitMQ:
            let listener = try await BoundQueue.consume(
                exchange: BrokerTopology.lifecycleExchange, bindingKey: "#", label: "contract-lifecycle", url: TestEnvironment.contractAMQPURL
            ) { [taken] delivery in
                taken.withLockedValue { $0.lifecycle.append(Taken(text: String(decoding: delivery.body, as: UTF8.self), label: delivery.routingKey)) }
            }
            listeners.withLockedValue { $0.append(listener) }
        }
    }

    /// How many lifecycle events the in-process broker kept before `listenToLifecycle`.
    private let lifecycleHeardFrom = NIOLockedValueBox(0)

    /// The lifecycle events heard since `listenToLifecycle`.
    var heardLifecycle: [Taken] {
        get throws {
            guard kind == .inProcess else { return taken.withLockedValue { $0.lifecycle } }
            let events = try inProcessBroker.lifecycleEvents.dropFirst(lifecycleHeardFrom.withLockedValue { $0 })
            return events.map { Taken(text: String(decoding: $0.body, as: UTF8.self), label: $0.event) }
        }
    }

    /// Reads `sse.poison` from now on, as an operator inspecting it does.
    func readPoison() async throws {
        guard kind == .rabbitMQ else { return }
        let box = NIOLockedValueBox<AMQPConsumer?>(nil)
        let consumer = AMQPConsumer(
            configuration: try AMQPConfiguration(url: TestEnvironment.contractAMQPURL), topology: BrokerTopology.shared,
            queues: [BrokerTopology.poisonQueue], prefetch: 100, logger: Logger(label: "test-contract-poison")
        ) { [taken] delivery in
            let reason = delivery.properties.headers["x-sse-reason"]?.stringValue ?? ""
            taken.withLockedValue { $0.parked.append(Taken(text: String(decoding: delivery.body, as: UTF8.self), label: reason)) }
            box.withLockedValue { $0 }?.ack(delivery)
        }
        box.withLockedValue { $0 = consumer }
        consumer.start()
        listeners.withLockedValue { $0.append(consumer) }
        try await consumer.waitUntilConnected(timeout: .seconds(10))
    }

    /// What was parked, with why: the in-process broker keeps it, RabbitMQ's is read from `sse.poison`.
    var parked: [Taken] {
        get throws {
            guard kind == .inProcess else { return taken.withLockedValue { $0.parked } }
            return try inProcessBroker.parkedMessages.map { Taken(text: String(decoding: $0.body, as: UTF8.self), label: $0.reason) }
        }
    }

    /// The one broker of an in-process cluster.
    private var inProcessBroker: InProcessBroker {
        get throws { try #require(nodes.first?.broker as? InProcessBroker) }
    }

    /// Shuts one node's broker down (once: `close` leaves it be).
    func shutdown(_ node: Node) async {
        guard shutDown.withLockedValue({ $0.insert(node.id).inserted }) else { return }
        await node.broker.shutdown()
    }

    /// Runs `body` with the cluster, then closes it, also when `body` throws.
    func use(_ body: (TestBrokers) async throws -> Void) async throws {
        try await TestEnvironment.run({ try await body(self) }, thenAlways: close)
    }

    /// Sends a last message from `sender` to each node and waits for it there: one sender's messages
    /// to one node keep their order, so everything it sent before has arrived too.
    func lastArrived(from sender: any Broker) async throws {
        for node in nodes {
            guard try await sender.publish(Array("last".utf8), toNode: node.id).routed else {
                throw Refused(what: "the last message to \(node.id)", outcome: "unroutable")
            }
            try await node.received.waitFor(["last"])
        }
    }

    /// Shuts down every broker, listener and the producer.
    func close() async {
        for node in nodes { await shutdown(node) }
        for listener in listeners.withLockedValue({ $0 }) { await listener.stop() }
        await producer?.shutdown()
    }

    struct Refused: Error, CustomStringConvertible {
        var what: String
        var outcome: String
        var description: String { "\(what) was not confirmed: \(outcome)" }
    }
}
