import NIOPosix
import SSEClient

/// `POST`s each publish on a new connection (`Connection: close`), like a backend without a pool;
/// the transport of the broadcast measurements against nchan. Runs on event loops of its own.
final class PerRequestHTTPTransport: PublishTransport {
    private let url: String
    private let contentType: String
    private let timeout: Duration
    private let group: MultiThreadedEventLoopGroup
    private let client: HTTPClient

    init(url: String, contentType: String, timeout: Duration, threads: Int) {
        self.url = url
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.contentType = contentType
        self.timeout = timeout
        self.client = HTTPClient(eventLoopGroup: group)
    }

    var description: String { "POST \(url), a new connection each" }

    func publish(_ body: [UInt8]) async -> PublishAnswer {
        do {
            let response = try await client.request(
                "POST", url, headers: [("Content-Type", contentType)], body: body, timeout: timeout
            )
            return (200..<300).contains(response.status) ? .accepted : .failed("status \(response.status)")
        } catch {
            return .failed("\(error)")
        }
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}
