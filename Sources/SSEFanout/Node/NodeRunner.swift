import Logging
import ServiceLifecycle

/// Runs a node's service group in a task of its own, for callers that start and stop a node rather than
/// run it until a signal (the integration tests): `start` returns once the HTTP port listens, `stop`
/// shuts the group down gracefully, in order, and waits until it has. The group is the very one
/// `Node.run` runs, so a node started this way starts and drains as a deployed one does.
final class NodeRunner: Sendable {
    private let group: ServiceGroup
    private let running: Task<Void, any Error>
    private let logger: Logger

    private init(group: ServiceGroup, running: Task<Void, any Error>, logger: Logger) {
        self.group = group
        self.running = running
        self.logger = logger
    }

    /// Runs `group`; returns once `listening` yields (the server listens), or throws what ended the
    /// group before it did.
    static func start(_ group: ServiceGroup, listening: AsyncStream<Int>, logger: Logger) async throws -> NodeRunner {
        let running = Task { try await group.run() }
        for await _ in listening {
            return NodeRunner(group: group, running: running, logger: logger)
        }
        // The server never listened: its start-up or bind failed (the group drained what had started
        // and ends with that error), or this task was cancelled.
        await group.triggerGracefulShutdown()
        try await running.value
        throw CancellationError()
    }

    /// Shuts the group down gracefully and returns once every service has.
    func stop() async {
        await group.triggerGracefulShutdown()
        do {
            try await running.value
        } catch {
            logger.error("a service of the node failed", metadata: ["error": "\(error)"])
        }
    }
}
