import NIOCore
import NIOPosix
import SSEClient

/// A client that can stop reading: a raw NIO socket with a small receive buffer. It reads normally until
/// `stopReading()` turns autoRead off; from then on the kernel buffers fill and the node itself has to
/// hold (or drop) what it sends, until `resumeReading()`.
final class StallingConnection: Sendable {
    /// The kernel's receive buffer for this socket (Linux doubles the value asked for).
    static let receiveBufferBytes = 4096

    let events: AsyncThrowingStream<SSEEvent, any Error>
    private let channel: any Channel

    private init(channel: any Channel, events: AsyncThrowingStream<SSEEvent, any Error>) {
        self.channel = channel
        self.events = events
    }

    /// Connects to `127.0.0.1:port` and sends `GET target` (with `Last-Event-ID` when given).
    static func open(port: Int, target: String, lastEventID: String?) async throws -> StallingConnection {
        var request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        request += "\r\n"
        let (events, output) = AsyncThrowingStream.makeStream(of: SSEEvent.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            // Set before connecting, so the advertised window is small from the start.
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferBytes))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StallingStreamHandler(request: request, output: output))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return StallingConnection(channel: channel, events: events)
    }

    /// Stops reading from the socket; the receive window closes once the small buffer is full.
    func stopReading() {
        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
    }

    /// Reads again, as fast as the data comes: first what piled up in the socket buffers, then
    /// whatever follows (nothing, if the server has closed the connection meanwhile).
    func resumeReading() {
        channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }

    func close() async {
        try? await channel.close()
    }
}
