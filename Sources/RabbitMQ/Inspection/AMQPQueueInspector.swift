import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// Reads queue depths for an operator (the admin page): each call opens a short connection of its own,
/// passively declares each queue, and closes it, on NIO's blocking-work pool (rabbitmq-c blocks). One
/// inspection runs at a time: a call while one is under way throws `AMQPError.notConnected` rather than
/// queueing, so however many pages poll, they cost one connection at a time.
public final class AMQPQueueInspector: Sendable {
    private let configuration: AMQPConfiguration
    private let logger: Logger
    private let running = NIOLockedValueBox(false)

    public init(configuration: AMQPConfiguration, logger: Logger) {
        var configuration = configuration
        configuration.connectionName = (configuration.connectionName.map { $0 + " " } ?? "") + "inspector"
        self.configuration = configuration
        self.logger = logger
    }

    /// The depth of each queue, in the order given.
    public func depths(of queues: [String]) async throws -> [AMQPQueueDepth] {
        let started = running.withLockedValue { running in
            defer { running = true }
            return !running
        }
        guard started else { throw AMQPError.notConnected("an inspection is already under way; try again shortly") }
        defer { running.withLockedValue { $0 = false } }
        let configuration = self.configuration
        let logger = self.logger
        return try await NIOThreadPool.singleton.runIfActive {
            let connection = try AMQPConnection.open(configuration: configuration, logger: logger)
            defer { connection.close() }
            return try queues.map { queue in
                let depth = try connection.depth(of: queue)
                return AMQPQueueDepth(queue: queue, messages: depth?.messages, consumers: depth?.consumers)
            }
        }
    }
}
