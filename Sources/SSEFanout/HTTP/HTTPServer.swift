import NIOCore
import NIOHTTP1
import NIOPosix

/// Binds the node's one HTTP port. Each accepted connection gets NIO's HTTP/1.1 handlers and an
/// `HTTPHandler`; the handlers are named so a stream can take the response-side ones out.
final class HTTPServer: Sendable {
    private let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    static func bind(node: Node, host: String, port: Int, group: EventLoopGroup) async throws -> HTTPServer {
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
                    try sync.addHandler(HTTPHandler(node: node), name: "sse-fanout")
                }
            }
            .bind(host: host, port: port)
            .get()
        return HTTPServer(channel: channel)
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

    /// The port actually bound (differs from the configured one when that was 0).
    var port: Int { channel.localAddress?.port ?? 0 }

    /// Stops accepting connections; open ones are unaffected.
    func close() async {
        try? await channel.close()
    }
}
