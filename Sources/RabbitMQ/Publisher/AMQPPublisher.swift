import ClientRuntime
import Logging
import NIOCore
import NIOPosix

/// Publishes messages with publisher confirms on its own connection and thread.
///
/// `publish` is async and returns once the broker acked the message. Calls are handed to the
/// publisher's thread, which sends all of the queued ones back to back and then reads the
/// confirms, so throughput grows with the number of concurrent callers. While disconnected it
/// fails fast and reconnects in the background with backoff, declaring `topology` each time.
public final class AMQPPublisher: Sendable {
    private let configuration: AMQPConfiguration
    private let topology: AMQPTopology
    private let logger: Logger
    private let thread = ConnectionThread<PublishRequest>(name: "amqp-publish")
    private let status = ConnectionStatus(initialReason: "not started") { AMQPError.notConnected($0) }
    /// Where confirms are answered for a caller on no event loop: always the same loop, so that they
    /// are answered in the order they were submitted.
    private let fallbackLoop: any EventLoop

    /// The loop that answers confirms for publishers made without a group (tools, tests): one thread of
    /// its own, so that a stream of confirms never delays the loops of `MultiThreadedEventLoopGroup.singleton`.
    public static let defaultEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Confirms are answered on the loop a message was submitted from, or on one of `eventLoopGroup`'s.
    public init(
        configuration: AMQPConfiguration, topology: AMQPTopology, eventLoopGroup: any EventLoopGroup = AMQPPublisher.defaultEventLoopGroup,
        logger: Logger
    ) {
        self.fallbackLoop = eventLoopGroup.next()
        self.configuration = configuration
        self.topology = topology
        self.logger = logger
    }

    /// Starts connecting in the background; returns at once. Calls after the first have no effect.
    public func start() {
        thread.start { [configuration, topology, status, logger] requests in
            PublisherLoop(
                configuration: configuration, topology: topology, requests: requests, status: status, logger: logger
            ).run()
        }
    }

    /// Publishes with publisher confirms.
    ///
    /// Returns `.confirmed` once the broker acked the message, or `.returned` when `mandatory`
    /// and no queue was bound for it. Throws `AMQPError.nacked` on a broker nack,
    /// `.notConnected` at once while disconnected, `.timeout` without a confirm within
    /// `rpcTimeout`, and `.connectionFailed` / `.channelClosed` if the connection or channel
    /// is lost before the confirm (the message may or may not have been routed).
    public func publish(
        exchange: String,
        routingKey: String,
        body: [UInt8],
        properties: AMQPMessageProperties = .init(),
        mandatory: Bool = false
    ) async throws -> AMQPPublishOutcome {
        try await submit(exchange: exchange, routingKey: routingKey, body: body, properties: properties, mandatory: mandatory).outcome
    }

    /// Hands the message to the publisher's thread now, without suspending, and returns a handle
    /// to await its confirm (see `publish`). Messages submitted one after another go out in that
    /// order, which concurrent `publish` calls from different tasks cannot promise.
    public func submit(
        exchange: String,
        routingKey: String,
        body: [UInt8],
        properties: AMQPMessageProperties = .init(),
        mandatory: Bool = false
    ) -> AMQPPendingPublish {
        guard status.isConnected else {
            return AMQPPendingPublish(settled: .failure(.notConnected(status.lastError ?? "not connected")))
        }
        let pending = AMQPPendingPublish(on: MultiThreadedEventLoopGroup.currentEventLoop ?? fallbackLoop)
        let request = PublishRequest(
            exchange: exchange, routingKey: routingKey, body: body, properties: properties, mandatory: mandatory, pending: pending)
        if !thread.queue.append(request) {
            request.complete(.failure(.notConnected("the publisher is shut down")))
        }
        return pending
    }

    /// True while connected, the topology is declared and the broker accepts publishes.
    public var isConnected: Bool { status.isConnected }

    /// Why it is not connected (nil while connected), for a readiness probe.
    public var lastError: String? { status.lastError }

    /// How many connections it has established so far: a reconnect raises it by one.
    public var connectionsEstablished: UInt64 { status.established }

    /// Returns once connected, on a connection established after the first `after` ones (0: any);
    /// throws `AMQPError.notConnected` with the last error after `timeout`.
    public func waitUntilConnected(timeout: Duration, establishedAfter after: UInt64 = 0) async throws {
        try await status.waitUntilConnected(timeout: timeout, establishedAfter: after)
    }

    /// Closes the connection, fails publishes not yet sent, and ends the thread.
    /// Publishes already sent still get their confirm (or time out) first.
    public func shutdown() async {
        await thread.stop()
        status.markDisconnected(reason: "the publisher is shut down")
    }
}
