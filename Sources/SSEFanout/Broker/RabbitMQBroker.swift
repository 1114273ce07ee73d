import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RabbitMQ

/// The broker on RabbitMQ: one publishing connection (with publisher confirms) and one consuming
/// connection (manual acks, bounded prefetch), each owned by its own thread inside the `RabbitMQ` module.
public final class RabbitMQBroker: Broker {
    private let nodeID: String
    private let publisher: AMQPPublisher
    private let configuration: AMQPConfiguration
    private let topology: AMQPTopology
    private let prefetch: UInt16
    private let logger: Logger
    private let consumer = NIOLockedValueBox<AMQPConsumer?>(nil)
    /// Whether the shared queues are consumed (`consumeSharedQueues`), kept for a consumer not made yet.
    private let sharedQueuesConsumed = NIOLockedValueBox(true)
    private static let sharedQueues = [BrokerTopology.ingressQueue, BrokerTopology.deadLetterQueue]

    public init(
        nodeID: String, configuration: AMQPConfiguration, prefetch: UInt16, queueExpiry: Duration, messageTTL: Duration,
        demo: Bool = false, eventLoopGroup: any EventLoopGroup = AMQPPublisher.defaultEventLoopGroup, logger: Logger
    ) {
        self.nodeID = nodeID
        self.configuration = configuration
        self.prefetch = prefetch
        self.logger = logger
        // Messages left `messageTTL` in a node's queue (the node died) are dead-lettered and rerouted.
        var topology = BrokerTopology.node(nodeID, queueExpiry: queueExpiry, messageTTL: messageTTL)
        if demo {
            topology.queues += BrokerTopology.demo.queues
            topology.bindings += BrokerTopology.demo.bindings
        }
        self.topology = topology
        var publisherConfiguration = configuration
        publisherConfiguration.connectionName = "sse-fanout \(nodeID) publisher"
        // The publisher declares the node's queue too, so routing to this node works before its consumer is up.
        // Confirms come back on the loop that published: the router's batch, or the HTTP request it answers.
        self.publisher = AMQPPublisher(configuration: publisherConfiguration, topology: topology, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    public func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws {
        publisher.start()
        var consumerConfiguration = configuration
        consumerConfiguration.connectionName = "sse-fanout \(nodeID) consumer"
        let nodeQueue = BrokerTopology.nodeQueue(nodeID)
        let settler = NIOLockedValueBox<AMQPConsumer?>(nil)
        let consumer = AMQPConsumer(
            configuration: consumerConfiguration,
            topology: topology,
            queues: [nodeQueue] + Self.sharedQueues,
            prefetch: prefetch,
            logger: logger
        ) { delivery in
            let source: BrokerDelivery.Source
            var trusted = false
            switch delivery.queue {
            case BrokerTopology.ingressQueue: source = .ingress
            case BrokerTopology.deadLetterQueue:
                source = .deadLetter(
                    reason: delivery.properties.headers["x-first-death-reason"]?.stringValue ?? "unknown",
                    queue: delivery.properties.headers["x-first-death-queue"]?.stringValue ?? ""
                )
                // RabbitMQ itself records where a dead letter was first published.
                trusted = delivery.properties.headers["x-first-death-exchange"]?.stringValue == BrokerTopology.internalExchange
                if trusted, delivery.routingKey == BrokerTopology.controlKey {
                    // A kick that waited in a dead node's queue: that node's streams went with it,
                    // and the live nodes had their own copies.
                    settler.withLockedValue { $0 }?.ack(delivery)
                    return
                }
            default:
                trusted = delivery.exchange == BrokerTopology.internalExchange
                source = trusted && delivery.routingKey == BrokerTopology.controlKey ? .control : .node
            }
            handler(BrokerDelivery(body: delivery.body, source: source, trusted: trusted, redelivered: delivery.redelivered) { disposition in
                guard let consumer = settler.withLockedValue({ $0 }) else { return }
                switch disposition {
                case .ack: consumer.ack(delivery)
                case .reject(let requeue): consumer.reject(delivery, requeue: requeue)
                }
            })
        }
        settler.withLockedValue { $0 = consumer }
        sharedQueuesConsumed.withLockedValue { consumed in
            if !consumed { Self.sharedQueues.forEach(consumer.pause) }
            self.consumer.withLockedValue { $0 = consumer }
        }
        consumer.start()
    }

    public func publish(_ body: [UInt8], toNode nodeID: String) -> BrokerSend {
        BrokerSend(publisher.submit(
            exchange: BrokerTopology.internalExchange, routingKey: BrokerTopology.internalKey(node: nodeID), body: body,
            properties: properties, mandatory: true
        ))
    }

    /// No time to live of their own: the node queue's (`x-message-ttl`) is every message's.
    private var properties: AMQPMessageProperties {
        AMQPMessageProperties(contentType: "application/json")
    }

    public func park(_ body: [UInt8], reason: String) async throws {
        _ = try await publisher.publish(
            exchange: "", routingKey: BrokerTopology.poisonQueue, body: body,
            properties: AMQPMessageProperties(contentType: "application/octet-stream", headers: ["x-sse-reason": .string(reason)])
        )
    }

    public func broadcast(_ body: [UInt8]) -> BrokerSend {
        BrokerSend(publisher.submit(
            exchange: BrokerTopology.internalExchange, routingKey: BrokerTopology.internalBroadcastKey, body: body, properties: properties))
    }

    public func sendControl(_ body: [UInt8]) -> BrokerSend {
        BrokerSend(publisher.submit(
            exchange: BrokerTopology.internalExchange, routingKey: BrokerTopology.controlKey, body: body, properties: properties))
    }

    /// Not mandatory: a lifecycle event nobody listens for is simply dropped. No time to live: the
    /// consumer's queue decides how long events may wait.
    public func publishLifecycle(_ body: [UInt8], event: String) -> BrokerSend {
        BrokerSend(publisher.submit(
            exchange: BrokerTopology.lifecycleExchange, routingKey: event, body: body,
            properties: AMQPMessageProperties(contentType: "application/json")))
    }

    public func consumeSharedQueues(_ consume: Bool) {
        sharedQueuesConsumed.withLockedValue { consumed in
            consumed = consume
            guard let consumer = self.consumer.withLockedValue({ $0 }) else { return }
            for queue in Self.sharedQueues {
                if consume { consumer.resume(queue) } else { consumer.pause(queue) }
            }
        }
    }

    /// Mandatory: a send no queue is bound for would be lost, so the browser is told (503) instead.
    /// No time to live: the backend's queue decides how long sends may wait.
    public func publishUpstream(_ body: [UInt8], routingKey: String, messageID: String, headers: [String: String]) -> BrokerSend {
        BrokerSend(publisher.submit(
            exchange: BrokerTopology.upstreamExchange, routingKey: routingKey, body: body,
            properties: AMQPMessageProperties(
                contentType: "application/json", messageId: messageID, persistent: true, headers: headers.mapValues { .string($0) }),
            mandatory: true))
    }

    public func stopConsuming() async {
        await consumer.withLockedValue { $0 }?.stop()
    }

    public func shutdown() async {
        await stopConsuming()
        await publisher.shutdown()
    }

    public var notReadyReason: String? {
        if !publisher.isConnected {
            return "RabbitMQ publisher not connected: \(publisher.lastError ?? "connecting")"
        }
        if let consumer = consumer.withLockedValue({ $0 }), !consumer.isConnected {
            return "RabbitMQ consumer not connected: \(consumer.lastError ?? "connecting")"
        }
        return nil
    }
}
