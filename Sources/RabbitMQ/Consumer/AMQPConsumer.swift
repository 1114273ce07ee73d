import ClientRuntime
import Logging

/// Consumes queues with manual acks on its own connection and thread.
///
/// Reconnects with backoff when the connection is lost, declaring `topology` and consuming
/// again; unacked deliveries are then redelivered by the broker (with `redelivered` set).
public final class AMQPConsumer: Sendable {
    private let configuration: AMQPConfiguration
    private let topology: AMQPTopology
    private let queues: [String]
    private let prefetch: UInt16
    private let logger: Logger
    private let handler: @Sendable (AMQPDelivery) -> Void
    private let thread = ConnectionThread<Acknowledgement>(name: "amqp-consume")
    private let status = ConnectionStatus(initialReason: "not started") { AMQPError.notConnected($0) }
    private let paused = PausedQueues()

    /// Consumes `queues` (manual acks; at most `prefetch` unacked deliveries per queue).
    /// `handler` is called on the consumer's thread, one delivery at a time, in order; it must
    /// not block for long, since acks and heartbeats wait while it runs.
    public init(
        configuration: AMQPConfiguration,
        topology: AMQPTopology,
        queues: [String],
        prefetch: UInt16,
        logger: Logger,
        handler: @escaping @Sendable (AMQPDelivery) -> Void
    ) {
        self.configuration = configuration
        self.topology = topology
        self.queues = queues
        self.prefetch = prefetch
        self.logger = logger
        self.handler = handler
    }

    /// Starts consuming in the background; returns at once. The loop runs until `stop()`.
    public func start() {
        thread.start { [configuration, topology, queues, prefetch, status, paused, logger, handler] acknowledgements in
            ConsumerLoop(
                configuration: configuration, topology: topology, queues: queues, prefetch: prefetch,
                acknowledgements: acknowledgements, status: status, paused: paused, logger: logger, handler: handler
            ).run()
        }
    }

    /// Stops taking deliveries from `queue`, one of the queues it consumes, until `resume(_:)`: its
    /// consumer is cancelled within a turn of the consumer's thread (about 10 ms), and the broker
    /// gives its messages to the queue's other consumers. Deliveries already taken can still be
    /// settled; a few sent just before the cancel may still reach the handler. Holds across
    /// reconnects, and may be called before `start()`.
    public func pause(_ queue: String) {
        paused.pause(queue)
    }

    /// Consumes `queue` again after `pause(_:)`.
    public func resume(_ queue: String) {
        paused.resume(queue)
    }

    /// Acks the delivery; callable from any thread, including from inside the handler.
    /// Dropped if the delivery came on an earlier connection (the broker has requeued it).
    public func ack(_ delivery: AMQPDelivery) {
        enqueue(.ack, for: delivery)
    }

    /// Rejects the delivery; with `requeue` false the broker dead-letters it (if the queue has
    /// an x-dead-letter-exchange) or drops it.
    public func reject(_ delivery: AMQPDelivery, requeue: Bool) {
        enqueue(.reject(requeue: requeue), for: delivery)
    }

    /// True while connected and consuming.
    public var isConnected: Bool { status.isConnected }

    /// Why it is not connected (nil while connected), for a readiness probe.
    public var lastError: String? { status.lastError }

    /// Returns once connected and consuming; throws `AMQPError.notConnected` with the last error after `timeout`.
    public func waitUntilConnected(timeout: Duration) async throws {
        try await status.waitUntilConnected(timeout: timeout)
    }

    /// Cancels the consumers, sends the acks already requested, closes the connection and ends
    /// the thread. Once it returns the handler is never called again.
    public func stop() async {
        await thread.stop()
        status.markDisconnected(reason: "the consumer is stopped")
    }

    private func enqueue(_ kind: Acknowledgement.Kind, for delivery: AMQPDelivery) {
        let acknowledgement = Acknowledgement(
            kind: kind, deliveryTag: delivery.deliveryTag, connectionGeneration: delivery.connectionGeneration)
        if !thread.queue.append(acknowledgement) {
            logger.debug("Ignoring an ack after the consumer stopped", metadata: ["deliveryTag": "\(delivery.deliveryTag)"])
        }
    }
}
