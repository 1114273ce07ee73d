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
///
/// The node only puts the parts together. What runs are its services (`services()`), in one service
/// group: started in their order, drained in the reverse (ARCHITECTURE.md, "The node is its services").
public final class Node: Sendable {
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
    /// What `/readyz` and the readiness gate ask.
    let readiness: ReadinessCheck
    let eventLoopGroup: EventLoopGroup
    /// The Redis client the registry, history and claims share; closed last in the drain.
    private let redis: RedisClient?
    private let state = NIOLockedValueBox(State())

    private struct State {
        /// The server of the services made last: its port outlives its drain.
        var server: HTTPServer?
        /// Runs the services between `start` and `stop`.
        var runner: NodeRunner?
    }

    public init(
        configuration: NodeConfiguration, registry: any Registry, broker: any Broker, history: any History,
        authenticator: Authenticator, sendClaims: any SendClaims = InProcessSendClaims(), queueInspector: AMQPQueueInspector? = nil,
        redis: RedisClient? = nil, logger: Logger, eventLoopGroup: EventLoopGroup
    ) {
        self.configuration = configuration
        self.redis = redis
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
        self.readiness = ReadinessCheck(broker: broker, authenticator: authenticator, registry: registry, metrics: self.metrics)
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
            queueExpiry: configuration.queueExpiry, messageTTL: configuration.messageTTL, demo: configuration.demo,
            eventLoopGroup: eventLoopGroup, logger: logger
        )
        // A connection per event loop: a publish or a registration made on a loop goes to Redis and back there.
        var redisConfiguration = try RedisConfiguration(url: configuration.redisURL)
        redisConfiguration.sentinels = try configuration.redisSentinels.map { try RedisEndpoint(parsing: $0) }
        redisConfiguration.masterName = configuration.redisMasterName
        redisConfiguration.sentinelPassword = configuration.redisSentinelPassword
        let redis = RedisClient(configuration: redisConfiguration, eventLoopGroup: eventLoopGroup, logger: logger)
        let registry = RedisRegistry(client: redis, keys: RedisKeys(prefix: configuration.redisKeyPrefix))
        let history = RedisHistory(client: redis, keyPrefix: configuration.redisKeyPrefix, retention: retention)
        return Node(
            configuration: configuration, registry: registry, broker: broker, history: history, authenticator: authenticator,
            sendClaims: RedisSendClaims(client: redis, keys: RedisKeys(prefix: configuration.redisKeyPrefix)),
            queueInspector: AMQPQueueInspector(configuration: amqp, logger: logger), redis: redis, logger: logger, eventLoopGroup: eventLoopGroup)
    }

    /// The HTTP port actually bound, once started.
    public var port: Int { state.withLockedValue { $0.server?.port ?? 0 } }

    /// Bytes of send and upload bodies this node holds now, awaiting RabbitMQ (`upstream.maxHeldBytes`
    /// bounds them).
    public var heldBodyBytes: Int { upstream.budget.heldBytes }

    var isAcceptingStreams: Bool { state.withLockedValue { $0.server?.isAcceptingStreams ?? false } }

    // MARK: - Lifecycle

    /// The node's services, to run in one service group, in this order: they start in it, and a graceful
    /// shutdown stops them one at a time in the reverse, which is the node's drain (ARCHITECTURE.md, "The
    /// node is its services"). The server comes last: it runs the start-up (`startUp`) before it binds. A
    /// service that fails, or ends before its turn, shuts the rest down in the same order.
    ///
    /// Each call makes new services; `port` is the server's of the last ones.
    public func services() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        services(serving: HTTPServer(node: self))
    }

    private func services(serving server: HTTPServer) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        state.withLockedValue { $0.server = server }
        // The services hold parts, never the node: the node holds their server, and is freed once stopped.
        let (nodeID, bootID, configuration, metrics, logger) = (self.nodeID, self.bootID, self.configuration, self.metrics, self.logger)
        let (broker, registrations, lifecycle, hub, upstream, readiness) = (self.broker, self.registrations, self.lifecycle, self.hub, self.upstream, self.readiness)
        let repair = RegistryRepair(nodeID: nodeID, hub: hub, registry: registry, registrations: registrations, logger: logger)
        let lease = LeaseKeeper(
            registry: registry, lease: configuration.nodeLease, lifecycle: lifecycle, logger: logger,
            record: {
                // Written before the server binds: the configured port, unless it is 0 (any free port).
                NodeRecord(
                    nodeID: nodeID, bootID: bootID, host: configuration.host, port: configuration.port != 0 ? configuration.port : server.port,
                    startedAt: Int64(Date().timeIntervalSince1970 * 1000))
            },
            totals: { configuration.metricsEnabled ? metrics.totals : nil },
            canPublish: { [broker] in broker.notReadyReason == nil },
            registerAgain: { repair.request(.lostEntries) })
        let gate = SharedQueueGate(broker: broker, logger: logger) {
            let problems = await readiness.problems()
            // Writes failed while Redis was away, even for less than a lease renewal: set them right now.
            if problems.isEmpty, registrations.takeMissedWrites() { repair.request(.missedWrites) }
            return problems
        }
        // Redis goes last: every step before may still write to it.
        var services: [any Service] = redis.map { redis in [DrainStep("redis") { await redis.shutdown() }] } ?? []
        services += [
            DrainStep("broker") {
                // The streams' closes were handed to the broker; it sends nothing more once shut down.
                await lifecycle.settle(timeout: .seconds(2))
                await broker.shutdown()
                logger.info("node stopped")
            },
            lease, repair, MemoryTrimmer(threshold: configuration.memoryTrimThreshold, logger: logger), gate,
        ]
        // Fetched again every auth.jwksRefresh, and when a token names an unknown key.
        if let jwks = authenticator.jwks { services.append(jwks) }
        services += [
            DrainStep("registrations") {
                await registrations.drain()
                registrations.finish()
            },
            DrainStep("upstream") { await upstream.shutdown() },
            DrainStep("hub") { await hub.closeAll() },
            DrainStep("consumers") { await broker.stopConsuming() },
            server,
        ]
        return services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup) }
    }

    /// What the node does before its server binds, in this order: removes what an earlier incarnation
    /// left in the registry, loads the kick bars, starts consuming (the readiness gate keeps the shared
    /// queues closed until the node is ready), publishes the earlier incarnation's closes, and waits for
    /// the identity provider's keys, fetched meanwhile.
    func startUp() async throws {
        await RuntimeTimers.prepare()
        // The identity provider's keys, fetched while the rest starts: a token that comes in as soon as the
        // server listens finds them (or /readyz says why it would not).
        async let keysFetched = authenticator.jwks?.refresh()
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
        let consumer = self.consumer
        try await broker.start { delivery in consumer.handle(delivery) }
        lifecycle.removed(leftovers, reason: .nodeDied)
        _ = await keysFetched
    }

    /// Runs the node's services (`NodeRunner`) and returns once its server listens; `stop` drains it.
    /// What a deployment runs is the same services in a group with the signals (`sse-fanout serve`).
    public func start() async throws {
        let server = HTTPServer(node: self)
        let group = ServiceGroup(configuration: .init(services: services(serving: server), logger: logger))
        let runner = try await NodeRunner.start(group, listening: server.listening, logger: logger)
        state.withLockedValue { $0.runner = runner }
    }

    /// Graceful drain: stop accepting streams, close the open ones spread over the drain window (each
    /// told when to come back; they resume elsewhere from their last id), stop consuming, remove this
    /// node's registry entries, close the broker. Returns once drained.
    public func stop() async {
        let runner = state.withLockedValue { state in
            defer { state.runner = nil }
            return state.runner
        }
        await runner?.stop()
    }
}
