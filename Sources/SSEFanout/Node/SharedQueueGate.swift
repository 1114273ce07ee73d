import Logging
import ServiceLifecycle

/// Lets the node take messages from the queues every node shares (`sse.ingress`, `sse.dead-letter`)
/// only while it is ready: what it takes it must route, and routing needs Redis and RabbitMQ. While
/// `/readyz` would say 503, the node's consumers of those queues are cancelled, so RabbitMQ gives
/// their messages to nodes that can route them; once ready, it consumes them again. A message taken
/// before the node noticed, whose routing then fails, goes back to its queue (QueueConsumer).
/// Runs until cancelled or shut down.
final class SharedQueueGate: Service, Sendable {
    private let broker: any Broker
    private let interval: Duration
    private let logger: Logger
    private let problems: @Sendable () async -> [String]

    /// `problems` is the node's readiness check: empty when ready. It is asked every `interval`.
    ///
    /// The gate starts closed: from here on the broker takes nothing from the shared queues, even once it
    /// starts, until `run` finds the node ready.
    init(broker: any Broker, interval: Duration = .milliseconds(250), logger: Logger, problems: @escaping @Sendable () async -> [String]) {
        self.broker = broker
        self.interval = interval
        self.logger = logger
        self.problems = problems
        broker.consumeSharedQueues(false)
    }

    /// Consumes the shared queues from the first time the node is ready, and leaves them while it is not.
    func run() async {
        await cancelWhenGracefulShutdown { [self] in await watch() }
    }

    private func watch() async {
        var consuming = false
        var wasReady = false
        while !Task.isCancelled {
            let problems = await problems()
            let ready = problems.isEmpty
            if ready != consuming {
                consuming = ready
                broker.consumeSharedQueues(ready)
                if !ready {
                    logger.warning("not ready: leaving the shared queues (ingress, dead letters) to nodes that can route", metadata: ["reasons": "\(problems)"])
                } else if wasReady {
                    logger.info("ready again: consuming the shared queues (ingress, dead letters) again")
                }
                wasReady = wasReady || ready
            }
            try? await Task.sleep(for: interval)
        }
    }
}
