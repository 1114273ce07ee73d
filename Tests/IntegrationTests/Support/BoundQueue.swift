import Logging
import NIOConcurrencyHelpers
import RabbitMQ

/// A backend's queue of its own, bound to one of the exchanges nodes publish to, consumed until stopped:
/// each delivery is handed to `handle` and then acked. The queue goes away with its consumer.
enum BoundQueue {
    static func consume(
        exchange: String, bindingKey: String, label: String, url: String = TestEnvironment.amqpURL,
        _ handle: @escaping @Sendable (AMQPDelivery) -> Void
    ) async throws -> AMQPConsumer {
        let queue = TestEnvironment.uniqueName("test.\(label)")
        let topology = AMQPTopology(
            exchanges: [.init(name: exchange, type: .topic)],
            queues: [.init(name: queue, durable: false, autoDelete: true, arguments: ["x-expires": .int(60_000)])],
            bindings: [.init(queue: queue, exchange: exchange, routingKey: bindingKey)])
        let box = NIOLockedValueBox<AMQPConsumer?>(nil)
        let consumer = AMQPConsumer(
            configuration: try AMQPConfiguration(url: url), topology: topology, queues: [queue], prefetch: 500,
            logger: Logger(label: "test-\(label)")
        ) { delivery in
            handle(delivery)
            box.withLockedValue { $0 }?.ack(delivery)
        }
        box.withLockedValue { $0 = consumer }
        consumer.start()
        try await consumer.waitUntilConnected(timeout: .seconds(10))
        return consumer
    }
}
