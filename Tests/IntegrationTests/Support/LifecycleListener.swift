import Foundation
import Logging
import NIOConcurrencyHelpers
import RabbitMQ
import SSEFanout

/// A backend listening to `sse.lifecycle` on a queue of its own, keeping every event it hears.
/// Tests share the exchange with every other test's nodes: they pick their own events by user,
/// connection or node.
final class LifecycleListener: Sendable {
    struct Event: Decodable, Sendable, Equatable {
        var event: String
        var user: String?
        var tenant: String?
        var session: String?
        var clientId: String?
        var connectionId: String?
        var channel: String?
        var channels: [String]?
        var node: String
        var time: Int64
        var seq: Int64
        var reason: String?
        /// The routing key it came with.
        var routingKey: String = ""

        private enum CodingKeys: String, CodingKey {
            case event, user, tenant, session, clientId, connectionId, channel, channels, node, time, seq, reason
        }
    }

    private let consumer: AMQPConsumer
    private let received: NIOLockedValueBox<[Event]>
    private let malformed = NIOLockedValueBox(0)

    private init(consumer: AMQPConsumer, received: NIOLockedValueBox<[Event]>) {
        self.consumer = consumer
        self.received = received
    }

    static func start() async throws -> LifecycleListener {
        let received = NIOLockedValueBox<[Event]>([])
        let consumer = try await BoundQueue.consume(exchange: BrokerTopology.lifecycleExchange, bindingKey: "#", label: "lifecycle") { delivery in
            if var event = try? JSONDecoder().decode(Event.self, from: Data(delivery.body)) {
                event.routingKey = delivery.routingKey
                received.withLockedValue { $0.append(event) }
            }
        }
        return LifecycleListener(consumer: consumer, received: received)
    }

    var events: [Event] { received.withLockedValue { $0 } }

    func events(where include: (Event) -> Bool) -> [Event] { events.filter(include) }

    func stop() async { await consumer.stop() }
}
