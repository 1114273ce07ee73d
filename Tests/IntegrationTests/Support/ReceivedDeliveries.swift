import NIOConcurrencyHelpers
import SSEFanout

/// What reached one broker's handler, in order of arrival; each delivery is acked as it arrives.
final class ReceivedDeliveries: Sendable {
    struct Received: Sendable, Equatable {
        var text: String
        var source: BrokerDelivery.Source
        var trusted: Bool
        var redelivered: Bool

        /// A first delivery sent by a node.
        static func fromANode(_ text: String, _ source: BrokerDelivery.Source = .node) -> Received {
            Received(text: text, source: source, trusted: true, redelivered: false)
        }
    }

    private let received = NIOLockedValueBox<[Received]>([])

    func record(_ delivery: BrokerDelivery) {
        let text = String(decoding: delivery.body, as: UTF8.self)
        received.withLockedValue {
            $0.append(Received(text: text, source: delivery.source, trusted: delivery.trusted, redelivered: delivery.redelivered))
        }
        delivery.settle(.ack)
    }

    var all: [Received] { received.withLockedValue { $0 } }

    /// The deliveries whose body is one of `texts`, in order of arrival.
    func of(_ texts: Set<String>) -> [Received] { all.filter { texts.contains($0.text) } }

    /// Waits until every one of `texts` arrived (at most `timeout`).
    func waitFor(_ texts: Set<String>, timeout: Duration = .seconds(20)) async throws {
        try await TestEnvironment.eventually(timeout: timeout, "\(texts.count) deliveries") {
            Set(of(texts).map(\.text)).count == texts.count
        }
    }
}
