import ClientRuntime
import Logging

/// What an `AMQPPublisher`'s thread does for its whole life: connect (retrying with backoff),
/// then publish queued requests in batches and resolve each from the broker's confirms.
/// Owns the connection; everything here runs on that one thread.
///
/// Confirms are pipelined: while earlier batches await theirs, requests that arrive are published at
/// once (up to `maxBatchesInFlight` batches), so a message never waits for another's confirm. The
/// thread sleeps in one poll on both the socket and the request queue.
final class PublisherLoop {
    /// A published batch awaiting its confirms, and when it times out.
    private struct InFlight {
        var confirms: PendingConfirms
        let deadline: ContinuousClock.Instant
    }

    /// How long an idle publisher sleeps before calling into rabbitmq-c again, which services
    /// heartbeats and notices a connection the broker closed.
    private static let idlePollInterval: Duration = .milliseconds(200)
    /// Past this many batches awaiting confirms, new requests wait (the broker is slow to confirm).
    private static let maxBatchesInFlight = 64

    private let configuration: AMQPConfiguration
    private let topology: AMQPTopology
    private let requests: SignalingQueue<PublishRequest>
    private let status: ConnectionStatus
    private let logger: Logger
    private var reconnecting: ReconnectLoop<PublishRequest>
    /// Delivery tag of the last message published on the current channel (the broker counts from 1).
    private var lastDeliveryTag: UInt64 = 0
    /// Batches published on the current channel and awaiting confirms, oldest first.
    private var inFlight: [InFlight] = []
    /// Prefix of the message ids given to mandatory messages that have none, to match returns.
    private let messageIdPrefix = "sse-fanout-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)

    init(
        configuration: AMQPConfiguration, topology: AMQPTopology,
        requests: SignalingQueue<PublishRequest>, status: ConnectionStatus, logger: Logger
    ) {
        self.configuration = configuration
        self.topology = topology
        self.requests = requests
        self.status = status
        self.logger = logger
        reconnecting = ReconnectLoop(role: "publisher", queue: requests, status: status, logger: logger)
    }

    func run() {
        reconnecting.run(
            connect: connect,
            serve: { connection in
                try serve(connection)
                connection.close()
            },
            // Politely, in case the broker is still there.
            close: { $0.close() },
            lost: "RabbitMQ publisher lost its connection; reconnecting",
            stopped: "the publisher is shut down",
            // A publish that slips in while waiting to reconnect fails at once.
            arrivedWhileWaiting: { fail($0, with: .notConnected(status.lastError ?? "reconnecting")) })
        fail(requests.takeAll(waitingAtMost: .zero), with: .notConnected("the publisher is shut down"))
    }

    private func connect() throws -> AMQPConnection {
        let connection = try AMQPConnection.open(configuration: configuration, logger: logger)
        do {
            try connection.declare(topology)
            try connection.enablePublisherConfirms()
        } catch {
            connection.close()
            throw error
        }
        lastDeliveryTag = 0
        logger.info("RabbitMQ publisher connected", metadata: ["broker": "\(configuration)"])
        return connection
    }

    /// Publishes until shut down (returns) or the connection fails (throws).
    private func serve(_ connection: AMQPConnection) throws {
        while true {
            let batch: [PublishRequest]
            if inFlight.isEmpty {
                batch = requests.takeAll(waitingAtMost: Self.idlePollInterval)
            } else {
                batch = inFlight.count < Self.maxBatchesInFlight ? requests.takeAll(waitingAtMost: .zero) : []
            }
            if requests.isClosed {
                fail(batch, with: .notConnected("the publisher is shut down"))
                // What was published still gets its confirms, or its timeout.
                while !inFlight.isEmpty { try awaitConfirms(on: connection, wakingForRequests: false) }
                return
            }
            do {
                if !batch.isEmpty { try publish(batch, on: connection) }
                if !inFlight.isEmpty {
                    try awaitConfirms(on: connection, wakingForRequests: inFlight.count < Self.maxBatchesInFlight)
                } else if batch.isEmpty {
                    try handleIdleEvents(on: connection)
                }
            } catch AMQPError.channelClosed(let reason) {
                // E.g. a publish to an exchange that does not exist; the connection itself is fine.
                logger.warning("RabbitMQ closed the publisher's channel; reopening it", metadata: ["reason": "\(reason)"])
                failInFlight(with: .channelClosed(reason))
                try connection.reopenChannel()
                try connection.enablePublisherConfirms()
                lastDeliveryTag = 0
            } catch let error as AMQPError {
                failInFlight(with: error)
                throw error
            }
        }
    }

    /// Sends the whole batch back to back; its confirms are awaited with the other batches'.
    private func publish(_ batch: [PublishRequest], on connection: AMQPConnection) throws {
        var pending = PendingConfirms(firstDeliveryTag: lastDeliveryTag + 1)
        for (position, request) in batch.enumerated() {
            var properties = request.properties
            var returnMatchingId: String?
            if request.mandatory {
                let messageId = properties.messageId ?? "\(messageIdPrefix)-\(pending.nextDeliveryTag)"
                properties.messageId = messageId
                returnMatchingId = messageId
            }
            do {
                try connection.publish(
                    exchange: request.exchange, routingKey: request.routingKey, body: request.body,
                    properties: properties, mandatory: request.mandatory)
            } catch let error as AMQPError {
                markDisconnectedIfLost(connection, error)
                pending.failAll(with: error)
                fail(batch[position...], with: error)
                throw error
            }
            pending.append(request, returnMatchingId: returnMatchingId)
            lastDeliveryTag += 1
        }
        inFlight.append(InFlight(confirms: pending, deadline: .now + configuration.rpcTimeout))
    }

    /// Sleeps until the broker sends something, a request arrives (when `wakingForRequests`) or the
    /// oldest batch times out; then handles everything the broker sent and drops resolved batches.
    private func awaitConfirms(on connection: AMQPConnection, wakingForRequests: Bool) throws {
        guard let deadline = inFlight.map(\.deadline).min() else { return }
        let wait = min(max(.zero, ContinuousClock.now.duration(to: deadline)), Self.idlePollInterval)
        do {
            if !connection.hasBufferedInput {
                if wakingForRequests {
                    requests.waitForElements(orReadable: connection.socketDescriptor, atMost: wait)
                } else if let event = try connection.receive(timeout: wait) {
                    handle(event)
                }
            }
            while let event = try connection.receive(timeout: .zero) {
                handle(event)
            }
        } catch let error as AMQPError {
            markDisconnectedIfLost(connection, error)
            throw error
        }
        let now = ContinuousClock.now
        for index in inFlight.indices where inFlight[index].deadline <= now {
            inFlight[index].confirms.failAll(with: .timeout("no publisher confirm within \(configuration.rpcTimeout)"))
        }
        inFlight.removeAll { $0.confirms.isEmpty }
    }

    private func failInFlight(with error: AMQPError) {
        for index in inFlight.indices { inFlight[index].confirms.failAll(with: error) }
        inFlight = []
    }

    private func handle(_ event: InboundEvent) {
        switch event {
        case .publisherAck(let deliveryTag, let multiple):
            for index in inFlight.indices { inFlight[index].confirms.acknowledge(deliveryTag: deliveryTag, multiple: multiple) }
        case .publisherNack(let deliveryTag, let multiple):
            for index in inFlight.indices { inFlight[index].confirms.negativelyAcknowledge(deliveryTag: deliveryTag, multiple: multiple) }
        case .returned(let messageId, let reason):
            // The oldest message with this id that is still waiting.
            let matched = messageId.map { id in inFlight.indices.contains { inFlight[$0].confirms.markReturned(messageId: id) } } ?? false
            if !matched {
                logger.debug("RabbitMQ returned a message that is no longer awaited", metadata: [
                    "messageId": "\(messageId ?? "none")", "reason": "\(reason)",
                ])
            }
        default:
            handleConnectionEvent(event)
        }
    }

    /// Reads whatever arrived while idle (late confirms of timed-out messages, blocked notices).
    private func handleIdleEvents(on connection: AMQPConnection) throws {
        while let event = try connection.receive(timeout: .zero) {
            handleConnectionEvent(event)
        }
    }

    private func handleConnectionEvent(_ event: InboundEvent) {
        switch event {
        case .connectionBlocked(let reason):
            // The broker stopped reading our socket; publishing now would only block, so fail fast.
            status.markDisconnected(reason: "RabbitMQ blocked publishing: \(reason)")
            logger.error("RabbitMQ blocked the publisher's connection", metadata: ["reason": "\(reason)"])
        case .connectionUnblocked:
            status.markConnected(newConnection: false)
            logger.info("RabbitMQ unblocked the publisher's connection")
        default:
            logger.debug("RabbitMQ publisher ignored an event", metadata: ["event": "\(event)"])
        }
    }

    /// Reports a lost connection before failing the callers, so that their retries fail fast.
    private func markDisconnectedIfLost(_ connection: AMQPConnection, _ error: AMQPError) {
        if !connection.isOpen {
            status.markDisconnected(reason: "\(error)")
        }
    }

    private func fail(_ requests: some Sequence<PublishRequest>, with error: AMQPError) {
        for request in requests {
            request.complete(.failure(error))
        }
    }
}
