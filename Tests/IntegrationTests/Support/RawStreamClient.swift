import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A stream opened over a bare TCP connection, for sending bytes a well-behaved client never would.
/// Keeps everything the server sends as text.
final class RawStreamClient: Sendable {
    private let channel: Channel
    private let received: NIOLockedValueBox<String>

    private init(channel: Channel, received: NIOLockedValueBox<String>) {
        self.channel = channel
        self.received = received
    }

    /// Sends the request for `path` and, in the same write, `trailing`.
    static func open(port: Int, path: String, trailing: String = "") async throws -> RawStreamClient {
        let received = NIOLockedValueBox("")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n" + trailing
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
