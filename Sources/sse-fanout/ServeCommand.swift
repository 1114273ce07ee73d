import ArgumentParser
import Configuration
import Foundation
import Logging
import NIOCore
import NIOPosix
import SSEFanout
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Runs one node.",
        discussion: """
            Each setting comes from the JSON config file, then the environment, then these flags (later wins). \
            A setting's JSON key is shown in brackets with its environment variable, e.g. [http.port, SSE_FANOUT_HTTP_PORT] \
            is {"http": {"port": 8081}} in the file.
            """
    )

    @Option(help: "JSON config file. [SSE_FANOUT_CONFIG]")
    var config: String?

    @Option(help: help("Address to bind (default 127.0.0.1).", "http.host"))
    var host: String?

    @Option(help: help("HTTP port (default 8080).", "http.port"))
    var port: Int?

    @Option(name: .customLong("node-id"), help: help("Node id, which names the node's queue sse.node.v2.<id> (default: the port).", "node.id"))
    var nodeID: String?

    @Option(name: .customLong("amqp-url"), help: help("RabbitMQ, amqp://user:pass@host:port/vhost (default amqp://guest:guest@127.0.0.1:5672/%2f).", "amqp.url"))
    var amqpURL: String?

    @Option(name: .customLong("redis-url"), help: help("Redis, redis://[:password@]host:port/db (default redis://127.0.0.1:6379/0).", "redis.url"))
    var redisURL: String?

    @Option(
        name: .customLong("redis-sentinel"),
        help: help("A Redis Sentinel, host:port, to ask where the primary is; repeatable. --redis-url then gives only the password and db.", "redis.sentinels"))
    var redisSentinels: [String] = []

    @Option(name: .customLong("redis-master-name"), help: help("The name the sentinels monitor the primary under.", "redis.masterName"))
    var redisMasterName: String?

    @Option(name: .customLong("redis-sentinel-password"), help: help("The sentinels' own password, when they have one.", "redis.sentinelPassword"))
    var redisSentinelPassword: String?

    @Option(name: .customLong("heartbeat-interval"), help: help("Seconds between heartbeat comments on each stream (default 15).", "sse.heartbeatInterval"))
    var heartbeatInterval: Double?

    @Option(name: .customLong("retry"), help: help("Reconnection hint for clients, milliseconds (default 3000).", "sse.retry"))
    var retry: Int?

    @Option(name: .customLong("write-delay"), help: help("Milliseconds events may gather before they are written, so each stream gets them in one write (default 0).", "sse.writeDelay"))
    var writeDelay: Int?
    @Flag(name: .customLong("no-metrics"), help: help("Count nothing for GET /metrics, which then answers 404 (default: metrics on).", "metrics.enabled"))
    var noMetrics = false

    @Flag(name: .customLong("no-pacing"), help: help("Never make a busy loop's broadcasts wait for one another (default: they may, within --pacing-budget).", "sse.pacing"))
    var noPacing = false

    @Option(name: .customLong("pacing-budget"), help: help("Milliseconds pacing may add to a broadcast's way to its streams, its pass included (default 100).", "sse.pacingBudget"))
    var pacingBudget: Int?

    @Option(name: .customLong("max-buffered-bytes"), help: help("Unsent bytes after which a slow client is disconnected (default 262144).", "sse.maxBufferedBytes"))
    var maxBufferedBytes: Int?

    @Option(name: .customLong("memory-trim-threshold"), help: help("Freed heap in bytes that, once gathered, is given back to the system; 0 never (default 33554432).", "node.memoryTrimThreshold"))
    var memoryTrimThreshold: Int?

    @Option(name: .customLong("max-body-size"), help: help("Largest POST /publish body in bytes (default 65536).", "http.maxBodySize"))
    var maxBodySize: Int?

    @Option(name: .customLong("max-upload-size"), help: help("Largest POST /upload/<path> body in bytes (default 10485760).", "http.maxUploadSize"))
    var maxUploadSize: Int?

    @Option(name: .customLong("upstream-url"), help: help("Backend that browsers' sends and uploads are streamed to as they arrive; without it they are held whole and published to RabbitMQ's sse.upstream.", "upstream.url"))
    var upstreamURL: String?

    @Option(name: .customLong("upstream-timeout"), help: help("Seconds the upstream backend may take to answer a send once it has the whole body (default 30).", "upstream.timeout"))
    var upstreamTimeout: Double?

    @Option(name: .customLong("request-timeout"), help: help("Seconds a request's head, then its body, may take to arrive (default 10).", "http.requestTimeout"))
    var requestTimeout: Double?

    @Option(name: .customLong("idle-timeout"), help: help("Seconds a kept-alive connection may wait for its next request (default 60).", "http.idleTimeout"))
    var idleTimeout: Double?

    @Option(name: .customLong("max-header-size"), help: help("Largest request head field, and all fields together, in bytes (default 16384).", "http.maxHeaderSize"))
    var maxHeaderSize: Int?

    @Option(name: .customLong("cors-origin"), help: help("Browser origin allowed to stream and publish; repeatable; * allows any.", "http.corsOrigins"))
    var corsOrigins: [String] = []

    @Option(help: help("Unacknowledged deliveries RabbitMQ may push at once (default 256).", "amqp.prefetch"))
    var prefetch: Int?

    @Option(name: .customLong("queue-expiry"), help: help("Seconds after which an unused node queue is deleted (default 3600).", "amqp.queueExpiry"))
    var queueExpiry: Int?

    @Option(name: .customLong("message-ttl"), help: help("Seconds a message may wait in a node's queue before it is rerouted (default 30).", "amqp.messageTTL"))
    var messageTTL: Double?

    @Option(name: .customLong("node-lease"), help: help("Seconds the node's registry entry lives unless renewed (default 10).", "node.lease"))
    var nodeLease: Double?

    @Option(name: .customLong("redis-key-prefix"), help: help("Prefix of every Redis key (default sse:).", "redis.keyPrefix"))
    var redisKeyPrefix: String?

    @Option(name: .customLong("drain-window"), help: help("Seconds over which SIGTERM closes the streams, spread at random (default 5).", "node.drainWindow"))
    var drainWindow: Double?

    @Option(name: .customLong("history-max-length"), help: help("Events kept per user, channel and broadcast stream (default 1000).", "history.maxLength"))
    var historyMaxLength: Int?

    @Option(name: .customLong("history-max-age"), help: help("Seconds events are kept, and publisher ids remembered (default 3600).", "history.maxAge"))
    var historyMaxAge: Double?

    @Option(help: help("Event loop threads, 0 = one per core (default 0).", "node.threads"))
    var threads: Int?

    @Option(name: .customLong("log-level"), help: help("trace, debug, info, notice, warning, error or critical (default info).", "log.level"))
    var logLevel: String?

    @Flag(help: help("One node with an in-process broker and registry: no RabbitMQ, no Redis.", "node.standalone"))
    var standalone = false

    @Flag(help: help("Serves the demo page (/demo) and mints demo tokens for anyone (POST /demo/token); never in production.", "node.demo"))
    var demo = false

    @Option(name: .customLong("jwt-secret"), help: help("HS256 secret (at least 32 bytes, 8 of them different) that subscriber and publisher tokens are signed with.", "auth.jwtSecret"))
    var jwtSecret: String?

    @Option(name: .customLong("jwt-key-file"), help: help("PEM public or private key (RS256, ES256) or JWKS file that tokens are checked with.", "auth.jwtKeyFile"))
    var jwtKeyFile: String?

    @Option(
        name: .customLong("jwks-url"),
        help: help("JWKS of an identity provider (http or https), fetched at startup, every --jwks-refresh and when a token names an unknown kid.", "auth.jwksUrl"))
    var jwksURL: String?

    @Option(name: .customLong("jwks-refresh"), help: help("Seconds between fetches of the --jwks-url JWKS (default 300).", "auth.jwksRefresh"))
    var jwksRefresh: Double?

    @Option(name: .customLong("jwt-issuer"), help: help("Required `iss` of every token (default: not checked).", "auth.issuer"))
    var jwtIssuer: String?

    @Option(name: .customLong("jwt-audience"), help: help("Required `aud` of every token (default: not checked).", "auth.audience"))
    var jwtAudience: String?

    @Option(name: .customLong("max-token-lifetime"), help: help("Seconds a token may still be valid for when it is shown (default 86400).", "auth.maxTokenLifetime"))
    var maxTokenLifetime: Double?

    @Option(name: .customLong("token-cookie"), help: help("Cookie a browser's token may come in (default sse_token).", "auth.cookieName"))
    var tokenCookie: String?

    @Option(name: .customLong("api-key"), help: help("API key (at least 16 bytes) with full publishing rights, for backends; repeatable.", "auth.apiKeys"))
    var apiKeys: [String] = []

    @Option(
        name: .customLong("tenant-api-key"),
        help: help("TENANT=KEY: a key that publishes, kicks and reads presence in that tenant only; repeatable.", "auth.tenantApiKeys"))
    var tenantAPIKeys: [String] = []

    @Flag(name: .customLong("no-auth"), help: help("Run without authentication: anyone may subscribe as anyone and publish to anyone.", "auth.disabled"))
    var noAuth = false

    @Option(name: .customLong("max-connections"), help: help("Open streams this node accepts, then 503 (default 0: no limit).", "limits.maxConnections"))
    var maxConnections: Int?

    @Option(name: .customLong("max-connections-per-user"), help: help("Open streams one user may hold across the cluster (default 0: no limit).", "limits.maxConnectionsPerUser"))
    var maxConnectionsPerUser: Int?

    @Option(
        name: .customLong("max-connections-per-address"),
        help: help("Open streams one client IP address may hold on this node, then 429 (default 0: no limit; behind a proxy, the proxy's address).", "limits.maxConnectionsPerAddress"))
    var maxConnectionsPerAddress: Int?

    @Option(name: .customLong("over-user-limit"), help: help("close-oldest (default) or refuse-new, past --max-connections-per-user.", "limits.overUserLimit"))
    var overUserLimit: String?

    @Option(name: .customLong("lifecycle-events"), help: help("Lifecycle event published to sse.lifecycle; repeatable; * (default) all, none for none.", "lifecycle.events"))
    var lifecycleEvents: [String] = []

    @Option(name: .customLong("kick-bar"), help: help("Seconds a target kicked with reconnect=false is refused new streams (default 300).", "limits.kickBar"))
    var kickBar: Double?

    static func help(_ text: String, _ key: String) -> ArgumentHelp {
        ArgumentHelp("\(text) [\(key), \(ConfigurationLoader.environmentName(for: key))]")
    }

    func run() async throws {
        var flags: [String: ConfigContent] = [:]
        if let host { flags["http.host"] = .string(host) }
        if let port { flags["http.port"] = .int(port) }
        if let nodeID { flags["node.id"] = .string(nodeID) }
        if let amqpURL { flags["amqp.url"] = .string(amqpURL) }
        if let redisURL { flags["redis.url"] = .string(redisURL) }
        if !redisSentinels.isEmpty { flags["redis.sentinels"] = .stringArray(redisSentinels) }
        if let redisMasterName { flags["redis.masterName"] = .string(redisMasterName) }
        if let redisSentinelPassword { flags["redis.sentinelPassword"] = .string(redisSentinelPassword) }
        if let heartbeatInterval { flags["sse.heartbeatInterval"] = .double(heartbeatInterval) }
        if let writeDelay { flags["sse.writeDelay"] = .int(writeDelay) }
        if noPacing { flags["sse.pacing"] = .bool(false) }
        if let pacingBudget { flags["sse.pacingBudget"] = .int(pacingBudget) }
        if noMetrics { flags["metrics.enabled"] = .bool(false) }
        if let retry { flags["sse.retry"] = .int(retry) }
        if let maxBufferedBytes { flags["sse.maxBufferedBytes"] = .int(maxBufferedBytes) }
        if let memoryTrimThreshold { flags["node.memoryTrimThreshold"] = .int(memoryTrimThreshold) }
        if let maxBodySize { flags["http.maxBodySize"] = .int(maxBodySize) }
        if let maxUploadSize { flags["http.maxUploadSize"] = .int(maxUploadSize) }
        if let upstreamURL { flags["upstream.url"] = .string(upstreamURL) }
        if let upstreamTimeout { flags["upstream.timeout"] = .double(upstreamTimeout) }
        if let requestTimeout { flags["http.requestTimeout"] = .double(requestTimeout) }
        if let idleTimeout { flags["http.idleTimeout"] = .double(idleTimeout) }
        if let maxHeaderSize { flags["http.maxHeaderSize"] = .int(maxHeaderSize) }
        if !corsOrigins.isEmpty { flags["http.corsOrigins"] = .stringArray(corsOrigins) }
        if let prefetch { flags["amqp.prefetch"] = .int(prefetch) }
        if let queueExpiry { flags["amqp.queueExpiry"] = .int(queueExpiry) }
        if let messageTTL { flags["amqp.messageTTL"] = .double(messageTTL) }
        if let nodeLease { flags["node.lease"] = .double(nodeLease) }
        if let redisKeyPrefix { flags["redis.keyPrefix"] = .string(redisKeyPrefix) }
        if let threads { flags["node.threads"] = .int(threads) }
        if let drainWindow { flags["node.drainWindow"] = .double(drainWindow) }
        if let historyMaxLength { flags["history.maxLength"] = .int(historyMaxLength) }
        if let historyMaxAge { flags["history.maxAge"] = .double(historyMaxAge) }
        if let logLevel { flags["log.level"] = .string(logLevel) }
        if standalone { flags["node.standalone"] = .bool(true) }
        if demo { flags["node.demo"] = .bool(true) }
        if let jwtSecret { flags["auth.jwtSecret"] = .string(jwtSecret) }
        if let jwtKeyFile { flags["auth.jwtKeyFile"] = .string(jwtKeyFile) }
        if let jwksURL { flags["auth.jwksUrl"] = .string(jwksURL) }
        if let jwksRefresh { flags["auth.jwksRefresh"] = .double(jwksRefresh) }
        if let jwtIssuer { flags["auth.issuer"] = .string(jwtIssuer) }
        if let jwtAudience { flags["auth.audience"] = .string(jwtAudience) }
        if let maxTokenLifetime { flags["auth.maxTokenLifetime"] = .double(maxTokenLifetime) }
        if let tokenCookie { flags["auth.cookieName"] = .string(tokenCookie) }
        if !apiKeys.isEmpty { flags["auth.apiKeys"] = .stringArray(apiKeys) }
        if !tenantAPIKeys.isEmpty { flags["auth.tenantApiKeys"] = .stringArray(tenantAPIKeys) }
        if noAuth { flags["auth.disabled"] = .bool(true) }
        if let maxConnections { flags["limits.maxConnections"] = .int(maxConnections) }
        if let maxConnectionsPerUser { flags["limits.maxConnectionsPerUser"] = .int(maxConnectionsPerUser) }
        if let maxConnectionsPerAddress { flags["limits.maxConnectionsPerAddress"] = .int(maxConnectionsPerAddress) }
        if let overUserLimit { flags["limits.overUserLimit"] = .string(overUserLimit) }
        if let kickBar { flags["limits.kickBar"] = .double(kickBar) }
        if !lifecycleEvents.isEmpty { flags["lifecycle.events"] = .stringArray(lifecycleEvents) }

        let file = config ?? ProcessInfo.processInfo.environment["SSE_FANOUT_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let configuration: NodeConfiguration
        do {
            configuration = try await ConfigurationLoader.load(flags: flags, file: file)
        } catch {
            throw ValidationError("configuration: \(error)")
        }

        LoggingSystem.bootstrap { label in
            var handler = EscapingLogHandler(wrapping: StreamLogHandler.standardError(label: label))
            handler.logLevel = configuration.logLevel
            return handler
        }
        let logger = Logger(label: "sse-fanout")
        let threadCount = configuration.threads > 0 ? configuration.threads : System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threadCount)
        let node = try await Node.make(configuration: configuration, logger: logger, eventLoopGroup: group)
        // The node is its services, in one group; SIGTERM and SIGINT drain it (ARCHITECTURE.md).
        let services = ServiceGroup(
            configuration: .init(services: node.services(), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await services.run()
        try await group.shutdownGracefully()
    }
}
