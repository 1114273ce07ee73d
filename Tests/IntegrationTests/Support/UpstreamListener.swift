import Foundation
import Logging
import NIOConcurrencyHelpers
import RabbitMQ
import SSEFanout

/// A backend taking browsers' sends and uploads from `sse.upstream` on a queue of its own, bound with
/// one routing key (each test its own), keeping every message it gets.
final class UpstreamListener: Sendable {
    struct Message: Sendable {
        var routingKey: String
        var messageID: String?
        var persistent: Bool
        var headers: [String: String]
        var body: [UInt8]

        /// The body as a JSON object.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    private let consumer: AMQPConsumer
    private let received: NIOLockedValueBox<[Message]>

    private init(consumer: AMQPConsumer, received: NIOLockedValueBox<[Message]>) {
        self.consumer = consumer
        self.received = received
    }

    static func start(bindingKey: String) async throws -> UpstreamListener {
        let received = NIOLockedValueBox<[Message]>([])
        let consumer = try await BoundQueue.consume(exchange: BrokerTopology.upstreamExchange, bindingKey: bindingKey, label: "upstream") { delivery in
            let headers = delivery.properties.headers.compactMapValues(\.stringValue)
            received.withLockedValue {
                $0.append(Message(
                    routingKey: delivery.routingKey, messageID: delivery.properties.messageId, persistent: delivery.properties.persistent,
                    headers: headers, body: delivery.body))
            }
        }
        return UpstreamListener(consumer: consumer, received: received)
    }

    var messages: [Message] { received.withLockedValue { $0 } }

    /// Waits until a message with this send id arrived, and returns it.
    func message(id: String) async throws -> Message {
        var found: Message?
        try await TestEnvironment.eventually("a message \(id) on sse.upstream") {
            found = messages.first { $0.messageID == id }
            return found != nil
        }
        return found!
    }

    func stop() async { await consumer.stop() }
}
