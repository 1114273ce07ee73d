import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// A tiny HTTP/1.1 server on 127.0.0.1 for the client tests. Each request it reads is handed to the test
/// through `nextRequest()`; the test writes the response bytes and closes the connection itself.
final class ScriptedHTTPServer: Sendable {
    /// Accepted connections, closed on shutdown so no test leaves a client hanging.
    private final class ConnectionRegistry: Sendable {
        let channels = NIOLockedValueBox<[any Channel]>([])
    }

    let port: Int
    private let listener: any Channel
    private let requests: AsyncStream<ScriptedRequest>
    private let connections: ConnectionRegistry

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(listener: any Channel, requests: AsyncStream<ScriptedRequest>, connections: ConnectionRegistry) {
        self.port = listener.localAddress!.port!
        self.listener = listener
        self.requests = requests
        self.connections = connections
    }

    static func start() async throws -> ScriptedHTTPServer {
        let (requests, continuation) = AsyncStream.makeStream(of: ScriptedRequest.self)
        let connections = ConnectionRegistry()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.channels.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestReader { continuation.yield($0) })
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return ScriptedHTTPServer(listener: listener, requests: requests, connections: connections)
    }

    /// The next request received, in arrival order.
    func nextRequest() async throws -> ScriptedRequest {
        var iterator = requests.makeAsyncIterator()
        guard let request = await iterator.next() else { throw CancellationError() }
        return request
    }

    func shutdown() async {
        try? await listener.close()
        for channel in connections.channels.withLockedValue({ $0 }) {
            try? await channel.close()
        }
    }

    /// Runs `body` with a fresh server and shuts the server down afterwards, whether `body` throws or not.
    static func with<Result>(_ body: (ScriptedHTTPServer) async throws -> Result) async throws -> Result {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }
}
