import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// `POST`s publishes over a few keep-alive connections, round robin, pipelined (each connection carries
/// any number of requests in flight): how a backend with a connection pool publishes at high rates, without
/// a TCP handshake and a TIME_WAIT socket per publish. Runs on event loops of its own.
final class KeepAliveHTTPTransport: PublishTransport {
    private let endpoint: HTTPEndpoint
    private let contentType: String
    private let group: MultiThreadedEventLoopGroup
    private let channels: [any Channel]
    private let next = NIOLockedValueBox(0)

    private init(endpoint: HTTPEndpoint, contentType: String, group: MultiThreadedEventLoopGroup, channels: [any Channel]) {
        self.endpoint = endpoint
        self.contentType = contentType
        self.group = group
        self.channels = channels
    }

    /// Opens `connections` connections (each within `timeout`).
    static func connect(url: String, contentType: String, connections: Int, threads: Int, timeout: Duration) async throws
        -> KeepAliveHTTPTransport
    {
        let endpoint = try HTTPEndpoint(url: url)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let seconds = TimeAmount(timeout)
        var channels: [any Channel] = []
        do {
            for _ in 0..<connections {
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(seconds)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            try channel.pipeline.syncOperations.addHandler(PipelinedRequestHandler(timeout: seconds))
                        }
                    }
                    .connect(to: endpoint.address).get()
                channels.append(channel)
            }
        } catch {
            for channel in channels { channel.close(promise: nil) }
            try? await group.shutdownGracefully()
            throw error
        }
        return KeepAliveHTTPTransport(endpoint: endpoint, contentType: contentType, group: group, channels: channels)
    }

    var description: String { "POST \(endpoint.url), \(channels.count) keep-alive connections, pipelined" }

    func publish(_ body: [UInt8]) async -> PublishAnswer {
        await send(body)()
    }

    func send(_ body: [UInt8]) -> @Sendable () async -> PublishAnswer {
        let channel = next.withLockedValue { index in
            defer { index = (index + 1) % channels.count }
            return channels[index]
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        let request = PipelinedRequest(
            head: HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.target, headers: headers),
            body: channel.allocator.buffer(bytes: body),
            status: channel.eventLoop.makePromise(of: Int.self)
        )
        // A write that never reaches the handler (the connection is closed) must still end the wait.
        channel.writeAndFlush(request).whenFailure { request.status.fail($0) }
        return {
            do {
                let status = try await request.status.futureResult.get()
                return (200..<300).contains(status) ? .accepted : .failed("status \(status)")
            } catch {
                return .failed("\(error)")
            }
        }
    }

    func shutdown() async {
        for channel in channels {
            try? await channel.close()
        }
        try? await group.shutdownGracefully()
    }
}
