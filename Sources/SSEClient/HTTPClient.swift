import NIOCore
import NIOHTTP1
import NIOPosix

/// Plain HTTP/1.1 requests, one new connection each (not pooled). `http://` only.
public final class HTTPClient: Sendable {
    private let eventLoopGroup: any EventLoopGroup

    public init(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sends `method url` with `headers` and `body` on a new connection and reads the whole response.
    ///
    /// Adds `Host`, `Connection: close` (so the server, not this client, holds the closed socket's
    /// TIME_WAIT) and `Content-Length` (with a body, or 0 for a body-less POST, PUT or PATCH), unless
    /// `headers` sets them.
    /// Throws `SSEClientError.invalidURL`, `.timeout` if the response is not complete within `timeout`,
    /// `.connectionClosed` if the server closes early, or the connect error (e.g. connection refused).
    public func request(
        _ method: String,
        _ url: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(10)
    ) async throws -> HTTPResponse {
        let url = try HTTPURL(parsing: url)
        var defaults = [("Connection", "close")]
        if body != nil || ["POST", "PUT", "PATCH"].contains(method.uppercased()) {
            defaults.append(("Content-Length", String(body?.count ?? 0)))
        }
        let head = HTTPRequestHead(method: method, url: url, defaults: defaults, headers: headers)
        let (_, response) = try await HTTPConnector.exchange(url: url, group: eventLoopGroup, timeout: timeout) {
            HTTPResponseCollector(request: head, body: body, promise: $0)
        }
        return response
    }
}
