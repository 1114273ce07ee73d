import Logging

/// Every setting of a node, with its default. Built once (see `ConfigurationLoader`) and passed down.
public struct NodeConfiguration: Sendable {
    /// Address the HTTP server binds.
    public var host = "127.0.0.1"
    public var port = 8080
    /// The node's name in the cluster: its queue is `sse.node.v2.<nodeID>`. Defaults to the port.
    public var nodeID: String?
    public var amqpURL = "amqp://guest:guest@127.0.0.1:5672/%2f"
    public var redisURL = "redis://127.0.0.1:6379/0"
    /// Redis Sentinels (`host:port`) to ask where the primary is; empty: `redisURL`'s host is the server.
    /// With sentinels, `redisURL` still gives the password and the database.
    public var redisSentinels: [String] = []
    /// The name the sentinels monitor the primary under; required with `redisSentinels`.
    public var redisMasterName = ""
    /// The sentinels' own password, when they have one.
    public var redisSentinelPassword: String?
    /// Runs with an in-process broker and registry: no RabbitMQ, no Redis.
    public var standalone = false
    /// Serves the demo page (`GET /demo`) and mints short-lived demo tokens (`POST /demo/token`) with
    /// the node's key, for anyone who asks: for trying the cluster out, never for production.
    public var demo = false
    /// A comment line on every idle stream this often keeps proxies from timing it out.
    public var heartbeatInterval: Duration = .seconds(15)
    /// Reconnection time hint sent with the `connected` event (SSE `retry:`), in milliseconds.
    public var retryMillis = 3000
    /// How long events may gather before they are written, so that a stream gets several in one
    /// write: fewer system calls per event under load, at the cost of this much added latency.
    /// Zero writes as soon as the event loop gets to it (events that queued meanwhile still go together).
    public var writeDelay: Duration = .zero
    /// Whether an event loop busy with passes to many streams may make the next such pass wait for more
    /// events to share its writes, within `pacingBudget` (ARCHITECTURE.md, "One write per stream per
    /// pass"). Passes to a few streams never wait.
    public var pacing = true
    /// The most pacing may add to an event's way to its streams, its pass included: a pass waits only
    /// what is left of it after the last pass, and only if events come closer together than that.
    public var pacingBudget: Duration = .milliseconds(100)
    /// Whether the node counts what `GET /metrics` shows (off: the route answers 404 and nothing is counted).
    public var metricsEnabled = true
    /// Unsent bytes a stream may have before its client counts as too slow and is disconnected.
    public var maxBufferedBytes = 256 * 1024
    /// Free heap (bytes) that, once gathered since the last time, is given back to the system
    /// (`MemoryTrimmer`); 0 never trims.
    public var memoryTrimThreshold = 32 * 1024 * 1024
    /// Largest accepted `POST /publish` body.
    public var maxBodySize = 64 * 1024
    /// Largest `POST /upload/<path>` body (a multipart form with its files).
    public var maxUploadSize = 10 * 1024 * 1024
    /// Where browsers' sends and uploads go: a backend's base URL (`http://…` or `https://…`; a send to
    /// `<path>` goes to `<url>/<path>`). nil: they are published to RabbitMQ's `sse.upstream`.
    public var upstreamURL: String?
    /// How long the backend at `upstreamURL` may take to answer once it has the whole body (504 past it).
    public var upstreamTimeout: Duration = .seconds(30)
    /// Largest answer from the backend passed back to the browser (502 past it).
    public var upstreamMaxResponseSize = 1024 * 1024
    /// Send and upload bodies this node holds at once on their way to RabbitMQ, across all requests (503
    /// past it). Bodies streamed to `upstreamURL` are not held, and not counted.
    public var upstreamMaxHeldBytes = 64 * 1024 * 1024
    /// The most publications one request or one AMQP message may carry (an array).
    public var maxBatchItems = 1000
    /// Largest request head field and all of a head's fields together (431 past it).
    public var maxHeaderSize = 16 * 1024
    /// How long a request's head and then its body may take to arrive (a stalled body gets 408); for a
    /// body streamed to `upstreamURL`, that includes the time the backend takes to read it.
    public var requestTimeout: Duration = .seconds(10)
    /// How long a kept-alive connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(60)
    public var corsOrigins: [String] = []
    public var logLevel: Logger.Level = .info
    /// Unacknowledged deliveries RabbitMQ may push to this node at once.
    public var prefetch = 256
    /// An unused node queue is deleted after this long (its node id never came back).
    public var queueExpiry: Duration = .seconds(3600)
    /// A message waiting this long in a node's queue (the node died) is dead-lettered and rerouted.
    /// Shorter than `queueExpiry`, which deletes a queue with whatever it still holds.
    public var messageTTL: Duration = .seconds(30)
    /// The node's registry entry expires unless renewed within this; renewed every third of it.
    public var nodeLease: Duration = .seconds(10)
    public var redisKeyPrefix = "sse:"
    /// Events kept per user, channel and broadcast stream for resume and offline users.
    public var historyMaxLength = 1000
    /// How long events are kept; also how long a publisher's id counts as already published.
    public var historyMaxAge: Duration = .seconds(3600)
    /// On SIGTERM, streams are closed at random moments over this window, so their clients
    /// reconnect to other nodes spread out rather than all at once.
    public var drainWindow: Duration = .seconds(5)
    /// Event loop threads; 0 means one per core.
    public var threads = 0
    /// Who may subscribe and publish (JWT keys, API keys, `disabled` for `--no-auth`).
    public var auth = AuthConfiguration()
    /// Open streams this node accepts; past it, `GET /events` gets 503 with `Retry-After`. 0: no limit
    /// beyond what the process's file descriptors allow.
    public var maxConnections = 0
    /// Open streams one user may hold across the cluster; 0: no limit.
    public var maxConnectionsPerUser = 0
    /// Open streams one client IP address may hold on this node; past it, `GET /events` gets 429 with
    /// `Retry-After`. The address is the socket peer's (behind a proxy, the proxy's). 0: no limit.
    public var maxConnectionsPerAddress = 0
    /// What happens to a stream over `maxConnectionsPerUser`.
    public var overUserLimit = UserLimitPolicy.closeOldest
    /// Which lifecycle events nodes publish to `sse.lifecycle` (names, or `*` for all; empty: none).
    public var lifecycleEvents: [String] = ["*"]
    /// How long a target kicked with `reconnect: false` is refused new streams.
    public var kickBar: Duration = .seconds(300)

    public init() {}

    /// When a user opens more streams than `maxConnectionsPerUser`.
    public enum UserLimitPolicy: String, Sendable {
        /// The user's oldest stream is closed (`event: close`, reason `replaced`) to make way.
        case closeOldest = "close-oldest"
        /// The new stream is refused with 429.
        case refuseNew = "refuse-new"
    }

    /// `lifecycleEvents` as kinds.
    var publishedLifecycleKinds: Set<LifecycleEvent.Kind> {
        if lifecycleEvents.contains("*") { return Set(LifecycleEvent.Kind.allCases) }
        return Set(lifecycleEvents.compactMap(LifecycleEvent.Kind.init(rawValue:)))
    }

    /// The effective node id.
    public var resolvedNodeID: String { nodeID ?? String(port) }
}
