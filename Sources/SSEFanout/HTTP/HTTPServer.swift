import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The node's one HTTP port, and the last of its services (ARCHITECTURE.md, "The node is its
/// services"). When the services start it runs the node's start-up (`Node.startUp`), then binds; on a
/// graceful shutdown it stops taking streams, closes the port and lets the open streams go over the
/// drain window while events still reach them. Each accepted connection gets NIO's HTTP/1.1 handlers
/// and an `HTTPHandler`; the handlers are named so a stream can take the response-side ones out.
final class HTTPServer: Service, Sendable {
    /// Weak: the node holds its server, not the other way round.
    private weak let node: Node?
    private let state = NIOLockedValueBox(State())
    /// Yields the bound port once the server listens; finishes when `run` returns.
    let listening: AsyncStream<Int>
    private let listened: AsyncStream<Int>.Continuation

    private struct State {
        var channel: Channel?
        var acceptingStreams = false
    }

    init(node: Node) {
        self.node = node
        (listening, listened) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The port actually bound (differs from the configured one when that was 0); 0 until bound.
    var port: Int { state.withLockedValue { $0.channel?.localAddress?.port ?? 0 } }

    /// Whether new streams are taken: from the bind until the drain begins.
    var isAcceptingStreams: Bool { state.withLockedValue { $0.acceptingStreams } }

    func run() async throws {
        defer { listened.finish() }
        guard let node else { return }
        try await node.startUp()
        let configuration = node.configuration
        let channel = try await Self.bind(node: node, routes: node.routes(server: self), host: configuration.host, port: configuration.port, group: node.eventLoopGroup)
        state.withLockedValue { state in
            state.channel = channel
            state.acceptingStreams = true
        }
        node.logger.info("node started", metadata: [
            "http": "\(configuration.host):\(port)", "queue": "\(BrokerTopology.nodeQueue(node.nodeID))",
            "mode": "\(configuration.standalone ? "standalone" : "cluster")",
        ])
        listened.yield(port)
        try? await gracefulShutdown()
        state.withLockedValue { $0.acceptingStreams = false }
        guard !Task.isCancelled else {
            try? await channel.close()
            return
        }
        node.logger.info("node stopping")
        try? await channel.close()
        // Still consuming: open streams get live events until their turn to close.
        await node.hub.drain(within: configuration.drainWindow, retryMillis: configuration.retryMillis)
    }

    private static func bind(node: Node, routes: HTTPRoutes, host: String, port: Int, group: EventLoopGroup) async throws -> Channel {
        let highWater = node.configuration.maxBufferedBytes
        let configuration = node.configuration
        var limits = NIOHTTPDecoderLimitConfiguration()
        // A request head is a line and a few headers (a token is at most 8 KiB): 80 KiB per field and
        // 65,534 fields, the decoder's defaults, would let one connection hold megabytes.
        limits.maxHeaderFieldSize = configuration.maxHeaderSize
        limits.maxHeaderListSize = configuration.maxHeaderSize
        limits.maxHeaderFieldCount = 100
        let logs = node.limitLogs
        let logger = node.logger
        let maximumConnections = DescriptorBudget.connections()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionCap(maximum: maximumConnections) { open in
                        logs.acceptFailure.note(
                            "cannot accept connections: \(open) open, as many as the file descriptors allow (ulimit -n) less \(DescriptorBudget.reserve) kept in reserve; accepting again as they close (raise ulimit -n, or set limits.maxConnections)",
                            logger: logger, metadata: ["connections": "\(open)"])
                    })
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoff(pause: Self.acceptBackoff) { error in
                        logs.acceptFailure.note(
                            "cannot accept connections: \(Self.acceptFailure(error)); trying again every \(Self.acceptBackoff.nanoseconds / 1_000_000) ms",
                            logger: logger, metadata: ["errno": "\(error.errnoCode)"])
                    })
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: highWater / 2, high: highWater))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTPResponseEncoder(), name: "http-encoder")
                    try sync.addHandler(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits)), name: "http-decoder")
                    try sync.addHandler(HTTPServerPipelineHandler(), name: "http-pipelining")
                    try sync.addHandler(
                        ProtocolErrorResponder { error in logs.malformedRequest.note("refused a malformed request: \(error)", logger: logger) },
                        name: "http-errors")
                    try sync.addHandler(
                        RequestDeadlines(
                            requestTimeout: TimeAmount(configuration.requestTimeout), idleTimeout: TimeAmount(configuration.idleTimeout)
                        ) { what in logs.requestTimeout.note("closed a connection whose \(what) did not arrive in time", logger: logger) },
                        name: "http-deadlines")
                    try sync.addHandler(HTTPHandler(routes: routes), name: "sse-fanout")
                }
            }
            .bind(host: host, port: port)
            .get()
        return channel
    }

    /// How long the node stops accepting after accept failed (out of file descriptors, or memory).
    static let acceptBackoff = TimeAmount.milliseconds(200)

    private static func acceptFailure(_ error: IOError) -> String {
        switch error.errnoCode {
        case EMFILE: "out of file descriptors (EMFILE: raise ulimit -n, or set limits.maxConnections)"
        case ENFILE: "the system is out of file descriptors (ENFILE)"
        default: "\(error)"
        }
    }
}
