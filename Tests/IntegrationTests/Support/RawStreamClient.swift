import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A stream opened over a bare TCP connection, for what a well-behaved client never does: send bytes
/// after its request, or stop reading (a stuck or very slow client). Keeps what the server sends as text.
final class RawStreamClient: Sendable {
    private let channel: Channel
    private let received: NIOLockedValueBox<String>

    private init(channel: Channel, received: NIOLockedValueBox<String>) {
        self.channel = channel
        self.received = received
    }

    /// Sends the request for `path` and, in the same write, `trailing`; from the loopback address
    /// `source` when given (any of 127.0.0.0/8 reaches a node on 127.0.0.1).
    static func open(port: Int, path: String, trailing: String = "", from source: String? = nil) async throws -> RawStreamClient {
        let received = NIOLockedValueBox("")
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        return try await connect(bootstrap, port: port, request: request(path) + trailing, received: received)
    }

    /// Sends `bytes` as they are (a request cut short, a slow or malformed one) and keeps the answer.
    static func raw(port: Int, sending bytes: String) async throws -> RawStreamClient {
        let received = NIOLockedValueBox("")
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
        return try await connect(bootstrap, port: port, request: bytes, received: received)
    }

    /// Sends the request for `path` and never reads from the socket.
    static func stalled(port: Int, path: String) async throws -> RawStreamClient {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            // A small receive buffer so the server's buffers fill quickly.
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
        return try await connect(bootstrap, port: port, request: request(path), received: NIOLockedValueBox(""))
    }

    private static func request(_ path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    }

    private static func connect(
        _ bootstrap: ClientBootstrap, port: Int, request: String, received: NIOLockedValueBox<String>
    ) async throws -> RawStreamClient {
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(channel.allocator.buffer(string: request))
        return RawStreamClient(channel: channel, received: received)
    }

    var text: String { received.withLockedValue { $0 } }
    var isOpen: Bool { channel.isActive }

    func send(_ bytes: String) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(string: bytes))
    }

    func close() async {
        try? await channel.close()
    }

    /// Waits until the server closed the connection; throws `TimedOut` after `timeout`.
    func waitClosed(timeout: Duration) async throws {
        let closed = channel.closeFuture
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await closed.get() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TestEnvironment.TimedOut(what: "the server closing the connection")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<String>

        init(received: NIOLockedValueBox<String>) { self.received = received }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let text = String(buffer: unwrapInboundIn(data))
            received.withLockedValue { $0 += text }
        }
    }
}
