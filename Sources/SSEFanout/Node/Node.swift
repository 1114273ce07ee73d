import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RabbitMQ
import Redis
import ServiceLifecycle

/// One sse-fanout process: it holds SSE streams (`LocalHub`), records them in the `Registry`,
/// consumes its queue from the `Broker`, and routes publications (`Router`).
public final class Node: Service, Sendable {
    public let configuration: NodeConfiguration
    public let nodeID: String
    /// Tells this incarnation apart from an earlier process with the same node id.
    public let bootID: String
    public let hub: LocalHub
    public let registry: any Registry
    public let broker: any Broker
    public let router: Router
    let cors: CORSPolicy
    let logger: Logger
    let registrations: RegistrationQueue
    private let eventLoopGroup: EventLoopGroup
    private let state = NIOLockedValueBox(State())

    private struct State {
        var server: HTTPServer?
        var acceptingStreams = false
        var tasks: [Task<Void, Never>] = []
        var stopped = false
    }

    public init(configuration: NodeConfiguration, registry: any Registry, broker: any Broker, logger: Logger, eventLoopGroup: EventLoopGroup) {
        self.configuration = configuration
        self.nodeID = configuration.resolvedNodeID
        self.bootID = ConnectionID.next()
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.resolvedNodeID)"
        self.logger = logger
        self.registry = registry
        self.broker = broker
        self.eventLoopGroup = eventLoopGroup
        self.router = Router(registry: registry, broker: broker, logger: logger)
        self.cors = CORSPolicy(allowedOrigins: configuration.corsOrigins)
        self.registrations = RegistrationQueue(registry: registry, logger: logger)
        self.hub = LocalHub(eventLoopGroup: eventLoopGroup, heartbeatInterval: TimeAmount(configuration.heartbeatInterval), logger: logger)
    }

    /// A node with the real broker and registry, or the in-process ones when `standalone` is set.
    public static func make(configuration: NodeConfiguration, logger: Logger, eventLoopGroup: EventLoopGroup) throws -> Node {
        let nodeID = configuration.resolvedNodeID
        if configuration.standalone {
            return Node(configuration: configuration, registry: InProcessRegistry(), broker: InProcessBroker(nodeID: nodeID), logger: logger, eventLoopGroup: eventLoopGroup)
        }
        var amqp = try AMQPConfiguration(url: configuration.amqpURL)
        amqp.connectionName = "sse-fanout \(nodeID)"
        let broker = RabbitMQBroker(
            nodeID: nodeID, configuration: amqp, prefetch: UInt16(configuration.prefetch),
            queueExpiry: configuration.queueExpiry, logger: logger
        )
        let redis = RedisClient(configuration: try RedisConfiguration(url: configuration.redisURL), logger: logger)
        let registry = RedisRegistry(client: redis, keys: RedisKeys(prefix: configuration.redisKeyPrefix))
        return Node(configuration: configuration, registry: registry, broker: broker, logger: logger, eventLoopGroup: eventLoopGroup)
    }

    /// The HTTP port actually bound, once started.
    public var port: Int { state.withLockedValue { $0.server?.port ?? 0 } }

    var isAcceptingStreams: Bool { state.withLockedValue { $0.acceptingStreams } }

    // MARK: - Lifecycle

    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }

    /// Cleans what an earlier incarnation left in the registry, starts the lease, consuming and the HTTP server.
    public func start() async throws {
        do {
            try await registry.removeEntries(ofNode: nodeID)
        } catch {
            logger.warning("could not clean earlier registry entries", metadata: ["error": "\(error)"])
        }
        let registrations = self.registrations
        let writer = Task { await registrations.run() }
        let lease = Task { [self] in await renewLease() }
        try await broker.start { [self] delivery in handle(delivery) }
        let server = try await HTTPServer.bind(node: self, host: configuration.host, port: configuration.port, group: eventLoopGroup)
        state.withLockedValue {
            $0.server = server
            $0.acceptingStreams = true
            $0.tasks = [writer, lease]
        }
        logger.info("node started", metadata: [
            "http": "\(configuration.host):\(server.port)", "queue": "\(BrokerTopology.nodeQueue(nodeID))",
            "mode": "\(configuration.standalone ? "standalone" : "cluster")",
        ])
    }

    /// Graceful shutdown: stop accepting, stop consuming, close the streams, remove this node's
    /// registry entries, close the broker.
    public func stop() async {
        let (server, tasks, alreadyStopped) = state.withLockedValue { state in
            defer { state.stopped = true; state.acceptingStreams = false }
            return (state.server, state.tasks, state.stopped)
        }
        guard !alreadyStopped else { return }
        logger.info("node stopping")
        await server?.close()
        await broker.stopConsuming()
        await hub.closeAll()
        await registrations.drain()
        registrations.finish()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        do {
            try await registry.unregisterNode(nodeID)
            try await registry.removeEntries(ofNode: nodeID)
        } catch {
            logger.warning("could not remove registry entries", metadata: ["error": "\(error)"])
        }
        await broker.shutdown()
        logger.info("node stopped")
    }

    private func renewLease() async {
        let record = NodeRecord(
            nodeID: nodeID, bootID: bootID, host: configuration.host, port: port,
            startedAt: Int64(Date().timeIntervalSince1970 * 1000)
        )
        var failing = false
        while !Task.isCancelled {
            do {
                try await registry.registerNode(record, lease: configuration.nodeLease)
                if failing { logger.info("node lease renewed again") }
                failing = false
            } catch {
                if !failing { logger.error("node lease renewal failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: configuration.nodeLease / 3)
        }
    }

    /// Why the node cannot serve right now; empty when ready.
    func readinessProblems() async -> [String] {
        var problems: [String] = []
        if let reason = broker.notReadyReason { problems.append(reason) }
        do {
            try await registry.checkReady()
        } catch {
            problems.append("Redis unreachable: \(error)")
        }
        return problems
    }

    // MARK: - Streams

    /// Adds a new stream to the hub and the registry; its `connected` event follows the registration,
    /// so a publish that the client makes after seeing it finds the connection.
    func attach(channel: Channel, request: StreamRequest) -> SSEConnection {
        let record = ConnectionRecord(
            connectionID: ConnectionID.next(), nodeID: nodeID, user: request.user, clientID: request.clientID,
            channels: request.channels, connectedAt: Int64(Date().timeIntervalSince1970 * 1000)
        )
        let connection = SSEConnection(record: record, channel: channel)
        let connected = connectedEvent(for: record)
        let logger = self.logger
        hub.add(connection) { joined in
            registrations.enqueue(.register(record, joinedChannels: joined)) { error in
                if error != nil { logger.warning("stream open but not registered", metadata: ["connection": "\(record.connectionID)"]) }
                connection.eventLoop.execute { connection.activate(with: connected, logger: logger) }
            }
        }
        logger.debug("stream opened", metadata: ["connection": "\(record.connectionID)", "user": "\(record.user ?? "-")"])
        return connection
    }

    /// Removes a stream whose connection ended, and exactly its registry entries.
    func detach(_ connection: SSEConnection) {
        connection.markClosed()
        hub.remove(connection) { left in
            registrations.enqueue(.unregister(connection.record, leftChannels: left))
        }
        logger.debug("stream closed", metadata: ["connection": "\(connection.id)"])
    }

    private func connectedEvent(for record: ConnectionRecord) -> ByteBuffer {
        var info: [String: Any] = ["connectionId": record.connectionID, "nodeId": nodeID, "channels": record.channels]
        if let user = record.user { info["user"] = user }
        if let clientID = record.clientID { info["clientId"] = clientID }
        // No id: the client's last-event-id stays that of the last real event.
        return SSEEncoder.encode(id: nil, event: "connected", data: String(decoding: JSONBody.encode(info), as: UTF8.self), retry: configuration.retryMillis)
    }

    // MARK: - Consuming

    /// Settles every message: events for this node go to the local streams; ingress messages are
    /// routed to their owning nodes; malformed ones are rejected (dead-lettered), never requeued.
    func handle(_ delivery: BrokerDelivery) {
        let publication: Publication
        do {
            publication = try PublicationCodec.decode(delivery.body)
        } catch {
            logger.error("rejecting malformed message", metadata: ["source": "\(delivery.source)", "error": "\(error)"])
            delivery.settle(.reject(requeue: false))
            return
        }
        switch delivery.source {
        case .node:
            hub.deliver(publication.withID(EventIDGenerator.next))
            delivery.settle(.ack)
        case .ingress:
            let router = self.router
            let logger = self.logger
            Task {
                do {
                    _ = try await router.route(publication)
                    delivery.settle(.ack)
                } catch {
                    // Transient (Redis or RabbitMQ away): give it back after a pause, not in a tight loop.
                    logger.warning("ingress routing failed; requeueing", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    delivery.settle(.reject(requeue: true))
                }
            }
        }
    }
}
