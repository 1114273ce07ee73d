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
    /// Checks subscribers' tokens and publishers' credentials.
    public let authenticator: Authenticator
    let cors: CORSPolicy
    let logger: Logger
    let registrations: RegistrationQueue
    /// Publishes lifecycle events (`sse.lifecycle`) for the registry writes of this node and its reaping.
    let lifecycle: LifecyclePublisher
    let streams: StreamOpener
    let consumer: QueueConsumer
    /// Targets kicked with `reconnect: false`, refused new streams for a while.
    let kicks = KickBars { Int64(Date().timeIntervalSince1970 * 1000) }
    /// Warnings that a limit was hit, each kind at most once per interval.
    let limitLogs: LimitLogs
    /// `limits.maxConnectionsPerAddress`.
    let addressLimit: AddressConnectionLimit
    let kicker: KickSender
    /// `limits.maxConnectionsPerUser`.
    let userLimit: UserConnectionLimit
    /// What `GET /metrics` shows.
    public let metrics: NodeMetrics
    /// Browsers' sends and uploads, on to the backend or `sse.upstream`.
    let upstream: UpstreamSender
    /// Reads RabbitMQ queue depths for the admin page; nil on a standalone node (no RabbitMQ).
    let queueInspector: AMQPQueueInspector?
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
        authenticator: Authenticator, sendClaims: any SendClaims = InProcessSendClaims(), queueInspector: AMQPQueueInspector? = nil,
        logger: Logger, eventLoopGroup: EventLoopGroup
    ) {
        self.configuration = configuration
        self.queueInspector = queueInspector
        self.authenticator = authenticator
        self.nodeID = configuration.resolvedNodeID
        self.bootID = ConnectionID.next()
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.resolvedNodeID)"
        self.logger = logger
        self.registry = registry
        self.broker = broker
        self.history = history
        self.eventLoopGroup = eventLoopGroup
        self.metrics = NodeMetrics()
        // Off: nothing on the stream path counts (what the metrics cost is measured against this).
        let metrics = configuration.metricsEnabled ? self.metrics : nil
        self.router = Router(registry: registry, broker: broker, history: history, logger: logger, metrics: metrics)
        self.cors = CORSPolicy(allowedOrigins: configuration.corsOrigins)
        self.lifecycle = LifecyclePublisher(broker: broker, logger: logger, kinds: configuration.publishedLifecycleKinds)
        self.registrations = RegistrationQueue(registry: registry, lifecycle: lifecycle, logger: logger, metrics: metrics)
        let hub = LocalHub(
            eventLoopGroup: eventLoopGroup, heartbeatInterval: TimeAmount(configuration.heartbeatInterval),
            writeDelay: TimeAmount(configuration.writeDelay), pacing: configuration.pacing,
            pacingBudget: TimeAmount(configuration.pacingBudget), logger: logger, metrics: metrics)
        self.hub = hub
        let limitLogs = LimitLogs()
        self.limitLogs = limitLogs
        let kicker = KickSender(registry: registry, broker: broker, bar: configuration.kickBar, revocation: configuration.auth.maxTokenLifetime)
        self.kicker = kicker
        let userLimit = UserConnectionLimit(
            maximum: configuration.maxConnectionsPerUser, policy: configuration.overUserLimit, presence: registry, logger: logger,
            log: limitLogs.userLimit, kick: { try await kicker.send($0) })
        self.userLimit = userLimit
        self.addressLimit = AddressConnectionLimit(maximum: configuration.maxConnectionsPerAddress)
        self.streams = StreamOpener(
            nodeID: configuration.resolvedNodeID, hub: hub, history: history, registrations: registrations,
            retryMillis: configuration.retryMillis, maxBufferedBytes: configuration.maxBufferedBytes, logger: logger, metrics: metrics,
            registered: { record in if userLimit.isOn { userLimit.enforce(after: record) } })
        self.upstream = UpstreamSender(
            settings: .init(
                url: configuration.upstreamURL, timeout: configuration.upstreamTimeout, maxResponseSize: configuration.upstreamMaxResponseSize,
                maxHeldBytes: configuration.upstreamMaxHeldBytes, requestTimeout: configuration.requestTimeout),
            registry: registry, broker: broker, claims: sendClaims, eventLoopGroup: eventLoopGroup, logger: logger)
        self.consumer = QueueConsumer(
            nodeID: configuration.resolvedNodeID, hub: hub, router: router, broker: broker, kicks: kicks,
            limits: .init(maxBytes: configuration.maxBodySize, maxItems: configuration.maxBatchItems), logger: logger)
    }

    /// A node with the real broker and registry, or the in-process ones when `standalone` is set.
    ///
    /// Secure by default: a clustered node refuses to start without a JWT key unless authentication is
    /// turned off on purpose (`--no-auth`); a standalone node without a key runs open, for the one-line
    /// try-out. Either way an open node says so in a warning at startup.
    public static func make(configuration: NodeConfiguration, logger: Logger, eventLoopGroup: EventLoopGroup) async throws -> Node {
        var configuration = configuration
        if !configuration.auth.disabled && !configuration.auth.isConfigured {
            guard configuration.standalone else {
                throw ConfigurationError(
                    "no JWT key: give --jwt-secret, --jwt-key-file or --jwks-url (auth.jwtSecret, auth.jwtKeyFile, auth.jwksUrl), or run without authentication with --no-auth"
                )
            }
            configuration.auth.disabled = true
        }
        if configuration.auth.disabled {
            logger.warning("authentication is OFF: anyone who reaches this node can subscribe as any user and publish to anyone")
        }
        // Demo tokens are minted, and so accepted, only where demo mode is on.
        configuration.auth.acceptsDemoTokens = configuration.demo
        let authenticator = try await Authenticator.load(configuration.auth, logger: logger)
        let nodeID = configuration.resolvedNodeID
        let retention = HistoryRetention(maxLength: configuration.historyMaxLength, maxAge: configuration.historyMaxAge)
        if configuration.standalone {
            return Node(
                configuration: configuration, registry: InProcessRegistry(), broker: InProcessBroker(nodeID: nodeID),
                history: InProcessHistory(retention: retention), authenticator: authenticator, logger: logger, eventLoopGroup: eventLoopGroup
            )
        }
        var amqp = try AMQPConfiguration(url: configuration.amqpURL)
        amqp.connectionName = "sse-fanout \(nodeID)"
        let broker = RabbitMQBroker(
            nodeID: nodeID, configuration: amqp, prefetch: UInt16(configuration.prefetch),
            queueExpiry: configuration.queueExpiry, messageTTL: configuration.messageTTL, demo: configuration.demo, logger: logger
        )
        let redis = RedisClient(configuration: try RedisConfiguration(url: configuration.redisURL), logger: logger)
        let registry = RedisRegistry(client: redis, keys: RedisKeys(prefix: configuration.redisKeyPrefix))
        let history = RedisHistory(client: redis, keyPrefix: configuration.redisKeyPrefix, retention: retention)
        return Node(
            configuration: configuration, registry: registry, broker: broker, history: history, authenticator: authenticator,
            sendClaims: RedisSendClaims(client: redis, keys: RedisKeys(prefix: configuration.redisKeyPrefix)),
            queueInspector: AMQPQueueInspector(configuration: amqp, logger: logger), logger: logger, eventLoopGroup: eventLoopGroup)
    }

    /// The HTTP port actually bound, once started.
    public var port: Int { state.withLockedValue { $0.server?.port ?? 0 } }

    /// Bytes of send and upload bodies this node holds now, awaiting RabbitMQ (`upstream.maxHeldBytes`
    /// bounds them).
    public var heldBodyBytes: Int { upstream.budget.heldBytes }

    var isAcceptingStreams: Bool { state.withLockedValue { $0.acceptingStreams } }

    // MARK: - Lifecycle

    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }

    /// Cleans what an earlier incarnation left in the registry, starts the lease, consuming and the HTTP server.
    public func start() async throws {
        await RuntimeTimers.prepare()
        // The identity provider's keys, fetched while the rest starts: a token that comes in as soon as the
        // server listens finds them (or /readyz says why it would not).
        let jwks = authenticator.jwks
        async let keysFetched = jwks?.refresh()
        // The earlier incarnation's connections ended when it did: their closes (and offline,
        // vacated) are published once the broker is started.
        var leftovers: [RemovedConnection] = []
        do {
            leftovers = try await registry.removeEntries(ofNode: nodeID)
        } catch {
            logger.warning("could not clean earlier registry entries", metadata: ["error": "\(error)"])
        }
        do {
            for body in try await registry.loadBars() {
                if let kick = try? Kick.decode(body) { kicks.add(kick) }
            }
        } catch {
            logger.warning("could not load kick bars", metadata: ["error": "\(error)"])
        }
        let registrations = self.registrations
        let writer = Task { await registrations.run() }
        let keeper = LeaseKeeper(
            registry: registry, lease: configuration.nodeLease, lifecycle: lifecycle, logger: logger,
            record: { [self] in
                // Written before the server binds: the configured port, unless it is 0 (any free port).
                NodeRecord(
                    nodeID: nodeID, bootID: bootID, host: configuration.host, port: configuration.port != 0 ? configuration.port : port,
                    startedAt: Int64(Date().timeIntervalSince1970 * 1000))
            },
            totals: { [self] in configuration.metricsEnabled ? metrics.totals : nil },
            canPublish: { [broker] in broker.notReadyReason == nil },
            registerAgain: { [self] in await registerAgain() })
        let lease = Task { await keeper.run() }
        let trimmer = MemoryTrimmer(threshold: configuration.memoryTrimThreshold, logger: logger)
        let trimming = Task { await trimmer.run() }
        let consumer = self.consumer
        // What the node takes from the shared queues it must route: it takes nothing until it is ready.
        broker.consumeSharedQueues(false)
        try await broker.start { delivery in consumer.handle(delivery) }
        let gate = SharedQueueGate(broker: broker, interval: Self.readinessInterval, logger: logger) { [self] in
            let problems = await readinessProblems()
            // Writes failed while Redis was away, even for less than a lease renewal: set them right now.
            if problems.isEmpty, registrations.takeMissedWrites() { await reconcile(registeringMissing: true) }
            return problems
        }
        let gating = Task { await gate.run() }
        lifecycle.removed(leftovers, reason: .nodeDied)
        _ = await keysFetched
        let server = try await HTTPServer.bind(node: self, host: configuration.host, port: configuration.port, group: eventLoopGroup)
        // Fetched again every auth.jwksRefresh, and when a token names an unknown key.
        let keyRefresh = jwks.map { jwks in Task { await jwks.run() } }
        state.withLockedValue {
            $0.server = server
            $0.acceptingStreams = true
            $0.tasks = [writer, lease, trimming, gating] + (keyRefresh.map { [$0] } ?? [])
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
        await upstream.shutdown()
        await registrations.drain()
        registrations.finish()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        do {
            try await registry.unregisterNode(nodeID)
            // Normally nothing is left; what is (a write that failed) ended with the drain.
            lifecycle.removed(try await registry.removeEntries(ofNode: nodeID), reason: .drain)
        } catch {
            logger.warning("could not remove registry entries", metadata: ["error": "\(error)"])
        }
        // The streams' closes were handed to the broker; it sends nothing more once shut down.
        await lifecycle.settle(timeout: .seconds(2))
        await broker.shutdown()
        logger.info("node stopped")
    }

    /// Redis lost this node's entries (restarted without its data, or flushed): write every live
    /// connection again, through the same ordered queue as new ones.
    private func registerAgain() async {
        let registrations = self.registrations
        // Each open stream's addresses have a stream here, so adding the node to them again is right.
        let count = await hub.forEachOpenStream { record in
            registrations.enqueue(.register(record, joined: record.addresses))
        }
        logger.warning("registry had lost this node's entries, or missed writes; registered its live connections again", metadata: ["connections": "\(count)"])
        _ = registrations.takeMissedWrites()
        await reconcile()
    }

    /// After an outage, what Redis says this node holds may outlive what it holds: streams that ended
    /// while Redis was away could not be unregistered, and, the node being alive, no reaper removes
    /// them. Those are unregistered now, through the same ordered queue (their closes are published),
    /// leaving the addresses no open stream here answers to. With `registeringMissing`, open streams whose
    /// registration failed are registered too.
    func reconcile(registeringMissing: Bool = false) async {
        do {
            // Read first, then look: a stream that opens in between is not in what was read.
            let recorded = try await registry.connections(ofNode: nodeID)
            let open = NIOLockedValueBox([String: ConnectionRecord]())
            _ = await hub.forEachOpenStream { record in open.withLockedValue { $0[record.connectionID] = record } }
            let live = open.withLockedValue { $0 }
            let stale = recorded.filter { live[$0.connectionID] == nil }
            if registeringMissing {
                let recordedIDs = Set(recorded.map(\.connectionID))
                let missing = live.values.filter { !recordedIDs.contains($0.connectionID) }
                for record in missing { registrations.enqueue(.register(record, joined: record.addresses)) }
                if !missing.isEmpty {
                    logger.warning("registered streams whose registration failed while Redis was unreachable", metadata: ["connections": "\(missing.count)"])
                }
            }
            guard !stale.isEmpty else { return }
            let hub = self.hub
            for record in stale {
                registrations.enqueue(.unregister(record, left: record.addresses.filter { !hub.holds($0) }))
            }
            logger.warning("removed registry entries of streams that ended while it was unreachable", metadata: ["connections": "\(stale.count)"])
        } catch {
            logger.warning("could not compare the registry with the open streams", metadata: ["error": "\(error)"])
        }
    }

    /// Ends every stream of `kick.target` on every node (each is told why) and, without `reconnect`,
    /// bars the target for `limits.kickBar`. Returns how many nodes held such streams.
    func kick(_ kick: Kick) async throws -> Int {
        try await kicker.send(kick)
    }

    /// How often the node checks its readiness to decide whether it takes shared-queue messages.
    static let readinessInterval: Duration = .milliseconds(250)

    /// Why the node cannot serve right now; empty when ready.
    func readinessProblems() async -> [String] {
        var problems: [String] = []
        if let reason = broker.notReadyReason { problems.append(reason) }
        if let reason = authenticator.notReadyReason { problems.append(reason) }
        do {
            try await registry.checkReady()
        } catch {
            problems.append("Redis unreachable: \(error)")
        }
        metrics.ready.record(problems.isEmpty ? 1 : 0)
        return problems
    }
}
