import ClientRuntime
import Logging

/// What an `AMQPConsumer`'s thread does for its whole life: connect (retrying with backoff),
/// declare the topology, consume the queues, hand each delivery to the handler and carry out
/// the acks and rejects queued from any thread. Owns the connection; runs on that one thread.
final class ConsumerLoop {
    /// How long one wait for a delivery lasts; also bounds how late a requested ack is sent.
    private static let pollInterval: Duration = .milliseconds(10)
    /// How long a requested ack may wait, while deliveries keep coming, for others to go out with
    /// it in one frame (`AckCoalescer`): at 1,000 deliveries/s, one frame for about five.
    private static let ackDelay: Duration = .milliseconds(5)

    private let configuration: AMQPConfiguration
    private let topology: AMQPTopology
    private let queues: [String]
    private let prefetch: UInt16
    private let acknowledgements: SignalingQueue<Acknowledgement>
    private let paused: PausedQueues
    private let logger: Logger
    private let handler: @Sendable (AMQPDelivery) -> Void
    private var reconnecting: ReconnectLoop<Acknowledgement>
    /// Acks and rejects requested on the current connection, not yet sent, and since when.
    private var waiting: [Acknowledgement] = []
    private var waitingSince = ContinuousClock.now
    private var coalescer = AckCoalescer()
    /// Send what waits once this many requests gathered, long before the prefetch window fills.
    private var waitingLimit: Int { max(1, Int(prefetch) / 4) }

    init(
        configuration: AMQPConfiguration, topology: AMQPTopology, queues: [String], prefetch: UInt16,
        acknowledgements: SignalingQueue<Acknowledgement>, status: ConnectionStatus, paused: PausedQueues, logger: Logger,
        handler: @escaping @Sendable (AMQPDelivery) -> Void
    ) {
        self.configuration = configuration
        self.topology = topology
        self.queues = queues
        self.prefetch = prefetch
        self.acknowledgements = acknowledgements
        self.paused = paused
        self.logger = logger
        self.handler = handler
        reconnecting = ReconnectLoop(role: "consumer", queue: acknowledgements, status: status, logger: logger)
    }

    /// Runs until the acknowledgement queue is closed (by `AMQPConsumer.stop`).
    func run() {
        reconnecting.run(
            connect: connect,
            serve: { session in
                var session = session
                try consume(&session)
                finish(session)
            },
            // Politely, in case the broker is still there (e.g. after a channel error).
            close: { $0.connection.close() },
            lost: "RabbitMQ consumer failed; reconnecting",
            stopped: "the consumer is stopped",
            // Acks arriving while waiting to reconnect are for a lost connection.
            arrivedWhileWaiting: { dropped in
                logger.debug("Dropping acks for deliveries from a lost connection", metadata: ["count": "\(dropped.count)"])
            })
    }

    private func connect() throws -> ConsumerSession {
        let connection = try AMQPConnection.open(configuration: configuration, logger: logger)
        var consumerTagByQueue: [String: String] = [:]
        do {
            try connection.declare(topology)
            try connection.setPrefetch(prefetch)
            for queue in queues where !paused.contains(queue) {
                consumerTagByQueue[queue] = try connection.consume(queue: queue)
            }
        } catch {
            connection.close()
            throw error
        }
        waiting = []
        coalescer = AckCoalescer()
        logger.info("RabbitMQ consumer connected", metadata: ["broker": "\(configuration)", "queues": "\(consumerTagByQueue.keys.sorted())"])
        return ConsumerSession(connection: connection, generation: .next(), consumerTagByQueue: consumerTagByQueue)
    }

    /// Delivers messages until stopped (returns) or the connection fails (throws).
    private func consume(_ session: inout ConsumerSession) throws {
        while true {
            try followPauses(&session)
            let requested = acknowledgements.takeAll(waitingAtMost: .zero)
            if !requested.isEmpty {
                if waiting.isEmpty { waitingSince = .now }
                waiting += requested
            }
            let closed = acknowledgements.isClosed
            if !waiting.isEmpty, closed || waiting.count >= waitingLimit || waitingSince.duration(to: .now) >= Self.ackDelay {
                try carryOut(on: session)
            }
            if closed { return }
            // No wake-up of its own for the acks: they go when a delivery or the poll wakes the thread.
            guard let event = try session.connection.receive(timeout: Self.pollInterval) else { continue }
            switch event {
            case .delivery(let inbound):
                guard !acknowledgements.isClosed else { return }
                coalescer.delivered(inbound.deliveryTag)
                handler(AMQPDelivery(
                    body: inbound.body, exchange: inbound.exchange, routingKey: inbound.routingKey,
                    queue: session.queueByConsumerTag[inbound.consumerTag] ?? "",
                    deliveryTag: inbound.deliveryTag, redelivered: inbound.redelivered,
                    properties: inbound.properties, connectionGeneration: session.generation))
            case .consumerCancelled(let consumerTag):
                // The queue is gone; reconnecting declares it again (if it is in the topology).
                let queue = session.queueByConsumerTag[consumerTag] ?? consumerTag
                throw AMQPError.channelClosed("the broker cancelled the consumer of queue '\(queue)'")
            case .connectionBlocked(let reason):
                logger.warning("RabbitMQ blocked the consumer's connection", metadata: ["reason": "\(reason)"])
            default:
                logger.debug("RabbitMQ consumer ignored an event", metadata: ["event": "\(event)"])
            }
        }
    }

    /// Cancels the consumers of queues paused since the last turn and consumes the queues resumed.
    private func followPauses(_ session: inout ConsumerSession) throws {
        for queue in queues {
            let consuming = session.consumerTagByQueue[queue]
            switch (paused.contains(queue), consuming) {
            case (true, let consumerTag?):
                try session.connection.cancel(consumerTag: consumerTag)
                session.consumerTagByQueue[queue] = nil
                logger.info("RabbitMQ consumer stopped consuming a queue", metadata: ["queue": "\(queue)"])
            case (false, nil):
                let consumerTag = try session.connection.consume(queue: queue)
                session.consumerTagByQueue[queue] = consumerTag
                session.queueByConsumerTag[consumerTag] = queue
                logger.info("RabbitMQ consumer consumes a queue", metadata: ["queue": "\(queue)"])
            default:
                continue
            }
        }
    }

    /// Sends the acks and rejects that wait, as few frames as they allow.
    private func carryOut(on session: ConsumerSession) throws {
        var current: [(deliveryTag: UInt64, kind: Acknowledgement.Kind)] = []
        for acknowledgement in waiting {
            guard acknowledgement.connectionGeneration == session.generation else {
                logger.debug("Dropping an ack for a delivery from an earlier connection; the broker requeued it", metadata: [
                    "deliveryTag": "\(acknowledgement.deliveryTag)",
                ])
                continue
            }
            current.append((acknowledgement.deliveryTag, acknowledgement.kind))
        }
        waiting = []
        for frame in coalescer.frames(for: current) {
            switch frame {
            case .ack(let deliveryTag, let multiple):
                try session.connection.ack(deliveryTag: deliveryTag, multiple: multiple)
            case .reject(let deliveryTag, let requeue):
                try session.connection.reject(deliveryTag: deliveryTag, requeue: requeue)
            }
        }
    }

    /// Stops the consumers, sends the acks still queued, and closes the connection.
    private func finish(_ session: ConsumerSession) {
        do {
            for consumerTag in session.consumerTagByQueue.values {
                try session.connection.cancel(consumerTag: consumerTag)
            }
            waiting += acknowledgements.takeAll(waitingAtMost: .zero)
            try carryOut(on: session)
        } catch {
            logger.warning("RabbitMQ consumer did not stop cleanly", metadata: ["error": "\(error)"])
        }
        session.connection.close()
    }
}
