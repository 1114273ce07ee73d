import NIOCore
import NIOPosix

/// A client that opens a stream and then never reads from its socket, as a stuck or very slow client would.
final class StalledClient: Sendable {
    private let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    static func open(port: Int, path: String) async throws -> StalledClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            // A small receive buffer so the server's buffers fill quickly.
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: "127.0.0.1", port: port)
            .get()
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        try await channel.writeAndFlush(channel.allocator.buffer(string: request))
        return StalledClient(channel: channel)
    }

    func close() async {
        try? await channel.close()
    }
}
