import Foundation
import Logging
import RabbitMQ

/// The RabbitMQ server the tests run against, and helpers to give each test its own names.
enum TestBroker {
    /// From `AMQP_URL`, defaulting to the private server of scripts/services.sh.
    static let url = ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5682/%2f"

    /// Test queues delete themselves this long after their last consumer left, so reruns stay clean.
    static let queueExpiry: AMQPFieldValue = .int(60_000)

    static func configuration(connectionName: String? = nil) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: url)
        configuration.connectionName = connectionName
        return configuration
    }

    /// A name no other test (or earlier run) uses.
    static func uniqueName(_ purpose: String) -> String {
        "rabbitmq-tests.\(purpose).\(UUID().uuidString.prefix(8).lowercased())"
    }

    static let logger: Logger = {
        var logger = Logger(label: "RabbitMQTests")
        logger.logLevel = ProcessInfo.processInfo.environment["AMQP_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// An auto-deleted exchange, a self-expiring queue, and a binding between them.
    static func simpleTopology(
        exchange: String, queue: String, routingKey: String, type: AMQPExchangeType = .direct,
        queueArguments: [String: AMQPFieldValue] = [:]
    ) -> AMQPTopology {
        AMQPTopology(
            exchanges: [.init(name: exchange, type: type, durable: false, autoDelete: true)],
            queues: [.init(name: queue, durable: false, arguments: queueArguments.merging(["x-expires": queueExpiry]) { $1 })],
            bindings: [.init(queue: queue, exchange: exchange, routingKey: routingKey)])
    }
}
