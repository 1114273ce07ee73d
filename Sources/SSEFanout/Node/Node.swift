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
    public let history: any History
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

    public init(
        configuration: NodeConfiguration, registry: any Registry, broker: any Broker, history: any History,
        logger: Logger, eventLoopGroup: EventLoopGroup
    ) {
        self.configuration = configuration
        self.nodeID = configuration.resolvedNodeID
        self.bootID = ConnectionID.next()
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.resolvedNodeID)"
        self.logger = logger
        self.registry = registry
        self.broker = broker
        self.history = history
        self.eventLoopGroup = eventLoopGroup
        self.router = Router(registry: registry, broker: broker, history: history, logger: logger)
        self.cors = CORSPolicy(allowedOrigins: configuration.corsOrigins)
        self.registrations = RegistrationQueue(registry: registry, logger: logger)
        self.hub = LocalHub(
            eventLoopGroup: eventLoopGroup, heartbeatInterval: TimeAmount(configuration.heartbeatInterval),
            writeDelay: TimeAmount(configuration.writeDelay), pacing: configuration.pacing, logger: logger)
    }

    /// A node with the real broker and registry, or the in-process ones when `standalone` is set.
    public static func make(configuration: NodeConfiguration, logger: Logger, eventLoopGroup: EventLoopGroup) throws -> Node {
        let nodeID = configuration.resolvedNodeID
        let retention = HistoryRetention(maxLength: configuration.historyMaxLength, maxAge: configuration.historyMaxAge)
        if configuration.standalone {
            return Node(
                configuration: configuration, registry: InProcessRegistry(), broker: InProcessBroker(nodeID: nodeID),
                history: InProcessHistory(retention: retention), logger: logger, eventLoopGroup: eventLoopGroup
            )
        }
        var amqp = try AMQPConfiguration(url: configuration.amqpURL)
        amqp.connectionName = "sse-fanout \(nodeID)"
        let broker = RabbitMQBroker(
            nodeID: nodeID, configuration: amqp, prefetch: UInt16(configuration.prefetch),
            queueExpiry: configuration.queueExpiry, messageTTL: configuration.messageTTL, logger: logger
        )
        let redis = RedisClient(configuration: try RedisConfiguration(url: configuration.redisURL), logger: logger)
        let registry = RedisRegistry(client: redis, keys: RedisKeys(prefix: configuration.redisKeyPrefix))
        let history = RedisHistory(client: redis, keyPrefix: configuration.redisKeyPrefix, retention: retention)
        return Node(configuration: configuration, registry: registry, broker: broker, history: history, logger: logger, eventLoopGroup: eventLoopGroup)
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

    /// Graceful drain: stop accepting streams, close the open ones spread over the drain window (each
    /// told when to come back; they resume elsewhere from their last id), stop consuming, remove this
    /// node's registry entries, close the broker.
    public func stop() async {
        let (server, tasks, alreadyStopped) = state.withLockedValue { state in
            defer { state.stopped = true; state.acceptingStreams = false }
            return (state.server, state.tasks, state.stopped)
        }
        guard !alreadyStopped else { return }
        logger.info("node stopping")
        await server?.close()
        // Still consuming: open streams get live events until their turn to close.
        await hub.drain(within: configuration.drainWindow, retryMillis: configuration.retryMillis)
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
        var first = true
        while !Task.isCancelled {
            do {
                let present = try await registry.registerNode(record, lease: configuration.nodeLease)
                if failing { logger.info("node lease renewed again") }
                // After an outage peers may have taken this node for dead and reaped its entries.
                if (!present || failing) && !first { await registerAgain() }
                first = false
                failing = false
                try await reapDeadNodes()
            } catch {
                if !failing { logger.error("node lease renewal failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: configuration.nodeLease / 3)
        }
    }

    /// Removes what nodes that died (their lease ran out) left in the registry, so nothing routes to
    /// them and their users count as offline. Every node does this; the removals are idempotent.
    private func reapDeadNodes() async throws {
        // A lease that ran out a whole lease ago: a live node cut off from Redis for a moment renews
        // first. Death to reaping stays within three lease intervals.
        for dead in try await registry.expiredNodes(before: configuration.nodeLease) where dead != nodeID {
            try await registry.removeEntries(ofNode: dead)
            try await registry.unregisterNode(dead)
            logger.warning("reaped the registry entries of a dead node", metadata: ["dead": "\(dead)"])
        }
    }

    /// Redis lost this node's entries (restarted without its data, or flushed): write every live
    /// connection again, through the same ordered queue as new ones.
    private func registerAgain() async {
        let registrations = self.registrations
        // Each open stream's channels have a subscriber here, so adding the node to them again is right.
        let count = await hub.forEachOpenStream { record in
            registrations.enqueue(.register(record, joinedChannels: record.channels))
        }
        logger.warning("registry had lost this node's entries; registered its live connections again", metadata: ["connections": "\(count)"])
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

    /// Adds a new stream to the hub and the registry. Once registered, it gets `connected`, then, when
    /// resuming, every kept event after its `Last-Event-ID` (or `reset` when some are no longer kept),
    /// then live events; those that arrived meanwhile were held back and are de-duplicated.
    func attach(channel: Channel, request: StreamRequest) -> SSEConnection {
        let record = ConnectionRecord(
            connectionID: ConnectionID.next(), nodeID: nodeID, user: request.user, clientID: request.clientID,
            channels: request.channels, connectedAt: Int64(Date().timeIntervalSince1970 * 1000)
        )
        let streams = HistoryStream.streams(user: request.user, channels: request.channels)
        let resumed = request.lastEventID.flatMap(ResumeToken.init(text:))
        // Streams the client did not read before start here and now.
        let now = StreamPosition(milliseconds: UInt64(Date().timeIntervalSince1970 * 1000))
        let token = ResumeToken(positions: streams.map { ($0.tag, resumed?.position(of: $0) ?? now) })
        let connection = SSEConnection(
            record: record, channel: channel, token: token,
            resumedFrom: ResumeToken(positions: streams.compactMap { stream in resumed?.position(of: stream).map { (stream.tag, $0) } })
        )
        let connected = connectedEvent(for: record)
        let logger = self.logger
        let history = self.history
        let resuming = streams.compactMap { stream in resumed?.position(of: stream).map { (stream, $0) } }
        let unreadableToken = request.lastEventID != nil && resumed == nil
        hub.add(connection) { joined in
            registrations.enqueue(.register(record, joinedChannels: joined)) { error in
                if error != nil { logger.warning("stream open but not registered", metadata: ["connection": "\(record.connectionID)"]) }
                guard !resuming.isEmpty || unreadableToken else {
                    connection.eventLoop.execute {
                        connection.activate(connected: connected, reset: nil, backlog: [], advancing: [], logger: logger)
                    }
                    return
                }
                Task {
                    do {
                        let backlog = try await Backlog.load(resuming, from: history, now: now)
                        let reset = backlog.truncated || unreadableToken ? Self.resetEvent(unreadableToken) : nil
                        connection.eventLoop.execute {
                            connection.activate(connected: connected, reset: reset, backlog: backlog.events, advancing: backlog.newest, logger: logger)
                        }
                    } catch {
                        // The client keeps its last id and tries again after `retry`.
                        logger.warning("closing resumed stream: history unavailable", metadata: ["connection": "\(record.connectionID)", "error": "\(error)"])
                        connection.eventLoop.execute { connection.close() }
                    }
                }
            }
        }
        logger.debug("stream opened", metadata: ["connection": "\(record.connectionID)", "user": "\(record.user ?? "-")", "resuming": "\(resuming.count)"])
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

    /// The first event; its id is the stream's resume token, so even a client that saw nothing else
    /// resumes from the moment it connected.
    /// Its data is the JSON object JSONSerialization wrote with sorted keys, written by hand: that
    /// serialization was the largest single cost of opening a stream.
    private func connectedEvent(for record: ConnectionRecord) -> ByteBuffer {
        var info = #"{"channels":"#
        JSONBody.appendStrings(record.channels, to: &info)
        if let clientID = record.clientID {
            info.append(#","clientId":"#)
            JSONBody.appendString(clientID, to: &info)
        }
        info.append(#","connectionId":"#)
        JSONBody.appendString(record.connectionID, to: &info)
        info.append(#","nodeId":"#)
        JSONBody.appendString(nodeID, to: &info)
        if let user = record.user {
            info.append(#","user":"#)
            JSONBody.appendString(user, to: &info)
        }
        info.append("}")
        return SSEEncoder.encode(id: nil, event: "connected", data: info, retry: configuration.retryMillis)
    }

    private static func resetEvent(_ unreadableToken: Bool) -> ByteBuffer {
        let reason = unreadableToken ? "unknown_last_event_id" : "history_truncated"
        return SSEEncoder.encode(id: nil, event: "reset", data: #"{"reason":"\#(reason)"}"#)
    }

    // MARK: - Consuming

    /// These users are not on `node` any more (they left after the route was looked up, or `node`
    /// died): pass their events to wherever they are now, then settle. The events stay in history
    /// either way, so a user who is nowhere gets them on resuming.
    private func reroute(_ publications: [Publication], awayFrom node: String, _ delivery: BrokerDelivery) {
        let router = self.router
        let logger = self.logger
        Task {
            var requeue = false
            for publication in publications {
                do {
                    let nodes = try await router.reroute(publication, awayFrom: node)
                    logger.debug("rerouted a stale route", metadata: ["event": "\(publication.id ?? "-")", "nodes": "\(nodes)"])
                } catch {
                    // Kept in history already: acking loses nothing a resume would not bring back.
                    logger.warning("could not reroute a stale route", metadata: ["error": "\(error)"])
                    if publication.position == nil { requeue = true }
                }
            }
            delivery.settle(requeue ? .reject(requeue: true) : .ack)
        }
    }

    /// Settles every message: events for this node go to the local streams; ingress messages are
    /// routed to their owning nodes; dead letters are rerouted (expired: their node died) or parked
    /// (malformed). A malformed message is rejected (dead-lettered), never requeued. A message may
    /// carry one publication or a JSON array of them (nodes send each other batches).
    func handle(_ delivery: BrokerDelivery) {
        let publications: [Publication]
        do {
            publications = try PublicationCodec.decodeBatch(delivery.body).publications
        } catch {
            logger.error("rejecting malformed message", metadata: ["source": "\(delivery.source)", "error": "\(error)"])
            if case .deadLetter = delivery.source {
                park(delivery)
            } else {
                delivery.settle(.reject(requeue: false))
            }
            return
        }
        switch delivery.source {
        case .node:
            var stale: [Publication] = []
            for publication in publications {
                hub.deliver(publication.withID(EventIDGenerator.next))
                if case .user(let user) = publication.target, publication.hops == 0, !hub.holds(user: user) {
                    stale.append(publication)
                }
            }
            if stale.isEmpty {
                delivery.settle(.ack)
            } else {
                reroute(stale, awayFrom: nodeID, delivery)
            }
        case .ingress:
            route(publications, from: delivery)
        case .deadLetter(let reason, let queue):
            guard reason == "expired" else {
                park(delivery)
                return
            }
            // Users' events that waited in a dead node's queue go to wherever the users are now.
            // Channel and broadcast subscribers of that node resume from history; its connections are gone.
            let deadNode = queue.hasPrefix("sse.node.") ? String(queue.dropFirst("sse.node.".count)) : ""
            let users = publications.filter { publication in
                if case .user = publication.target, publication.hops == 0 { return true }
                return false
            }
            if users.isEmpty {
                delivery.settle(.ack)
            } else {
                reroute(users, awayFrom: deadNode, delivery)
            }
        }
    }

    /// Routes an ingress message's publications (in their order, in line with every other arrival)
    /// and acks it once all are routed. If any failed (Redis or RabbitMQ away), the whole message goes
    /// back after a pause, not in a tight loop; publications with ids are not sent twice.
    private func route(_ publications: [Publication], from delivery: BrokerDelivery) {
        let logger = self.logger
        let remaining = NIOLockedValueBox((count: publications.count, failure: nil as Router.Failure?))
        router.submit(publications) { _, outcome in
            let (done, failure) = remaining.withLockedValue { state -> (Bool, Router.Failure?) in
                if case .failure(let error) = outcome, state.failure == nil { state.failure = error }
                state.count -= 1
                return (state.count == 0, state.failure)
            }
            guard done else { return }
            guard let failure else { return delivery.settle(.ack) }
            logger.warning("ingress routing failed; requeueing", metadata: ["error": "\(failure)"])
            Task {
                try? await Task.sleep(for: .seconds(1))
                delivery.settle(.reject(requeue: true))
            }
        }
    }

    private func park(_ delivery: BrokerDelivery) {
        let broker = self.broker
        let logger = self.logger
        Task {
            do {
                try await broker.park(delivery.body)
                delivery.settle(.ack)
            } catch {
                logger.warning("could not park a dead letter; requeueing", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                delivery.settle(.reject(requeue: true))
            }
        }
    }

}
