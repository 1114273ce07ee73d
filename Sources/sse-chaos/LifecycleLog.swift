import Foundation
import Logging
import RabbitMQ
import NIOConcurrencyHelpers

/// A backend listening to the nodes' lifecycle events: a queue of its own bound to `sse.lifecycle`
/// with `#`, every event kept in arrival order.
final class LifecycleLog: Sendable {
    private struct State {
        var consumer: AMQPConsumer?
        var records: [LifecycleRecord] = []
        var unreadable = 0
    }

    private let state = NIOLockedValueBox(State())
    static let exchange = "sse.lifecycle"

    /// Starts listening; returns once the queue is bound, so nothing published later is missed.
    func start(amqpURL: String, logger: Logger) async throws {
        let queue = "sse-chaos.lifecycle"
        let topology = AMQPTopology(
            exchanges: [.init(name: Self.exchange, type: .topic)],
            queues: [.init(name: queue, durable: false, autoDelete: true)],
            bindings: [.init(queue: queue, exchange: Self.exchange, routingKey: "#")])
        let consumer = AMQPConsumer(
            configuration: try AMQPConfiguration(url: amqpURL), topology: topology, queues: [queue], prefetch: 1000, logger: logger
        ) { [self] delivery in
            let record = try? JSONDecoder().decode(LifecycleRecord.self, from: Data(delivery.body))
            let consumer = state.withLockedValue { state -> AMQPConsumer? in
                if var record {
                    record.arrival = state.records.count
                    state.records.append(record)
                } else {
                    state.unreadable += 1
                }
                return state.consumer
            }
            consumer?.ack(delivery)
        }
        state.withLockedValue { $0.consumer = consumer }
        consumer.start()
        try await consumer.waitUntilConnected(timeout: .seconds(30))
    }

    var records: [LifecycleRecord] { state.withLockedValue { $0.records } }
    var unreadable: Int { state.withLockedValue { $0.unreadable } }

    func stop() async {
        let consumer = state.withLockedValue { state in
            defer { state.consumer = nil }
            return state.consumer
        }
        await consumer?.stop()
    }
}
