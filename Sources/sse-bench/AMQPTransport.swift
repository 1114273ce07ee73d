import Logging
import RabbitMQ
import SSEFanout

/// Publishes straight to RabbitMQ with publisher confirms, as a backend would (README, "AMQP contract"):
/// to `sse.ingress`, which any node consumes and routes, or to `sse.direct` with a node id as routing key,
/// which that node delivers live. `AMQPPublisher` sends concurrent publishes back to back on its own thread.
final class AMQPTransport: PublishTransport {
    private let publisher: AMQPPublisher
    private let url: String
    private let node: String?

    private init(publisher: AMQPPublisher, url: String, node: String?) {
        self.publisher = publisher
        self.url = url
        self.node = node
    }

    /// Connects (at most 10 s) and declares the shared topology, as `sse-fanout publish` does.
    static func connect(url: String, node: String?) async throws -> AMQPTransport {
        var configuration = try AMQPConfiguration(url: url)
        configuration.connectionName = "sse-bench"
        var logger = Logger(label: "sse-bench.amqp")
        logger.logLevel = .warning
        let publisher = AMQPPublisher(configuration: configuration, topology: BrokerTopology.shared, logger: logger)
        publisher.start()
        do {
            try await publisher.waitUntilConnected(timeout: .seconds(10))
        } catch {
            await publisher.shutdown()
            throw error
        }
        return AMQPTransport(publisher: publisher, url: url, node: node)
    }

    var description: String {
        let host = url.split(separator: "@").last.map(String.init) ?? url  // without the credentials
        return node.map { "AMQP \(host), exchange \(BrokerTopology.directExchange), routing key \($0)" }
            ?? "AMQP \(host), exchange \(BrokerTopology.ingressExchange)"
    }

    func publish(_ body: [UInt8]) async -> PublishAnswer {
        await send(body)()
    }

    func send(_ body: [UInt8]) -> @Sendable () async -> PublishAnswer {
        let pending = publisher.submit(
            exchange: node == nil ? BrokerTopology.ingressExchange : BrokerTopology.directExchange,
            routingKey: node ?? "", body: body,
            properties: AMQPMessageProperties(contentType: "application/json"),
            // Unroutable (no queue for that node id) is a failure, not a silent drop.
            mandatory: node != nil
        )
        let node = self.node
        return {
            do {
                let outcome = try await pending.outcome
                return outcome == .confirmed ? .accepted : .failed("unroutable: no queue for node \(node ?? "")")
            } catch {
                return .failed("\(error)")
            }
        }
    }

    func shutdown() async {
        await publisher.shutdown()
    }
}
