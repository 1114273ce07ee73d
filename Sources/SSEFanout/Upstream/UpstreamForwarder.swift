import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1

/// Forwards sends and uploads to the backend at `upstream.url` (async-http-client): the request goes to
/// `<url>/<path>?<query>` with the sender's identity in `X-SSE-*` headers and none of the caller's
/// credentials, its body streamed as the browser sends it (`SendBodyStream`), and the backend's status,
/// content type and body come back as they are.
final class UpstreamForwarder: Sendable {
    /// What the backend said, or why it said nothing.
    enum Outcome: Sendable {
        case answered(status: HTTPResponseStatus, contentType: String?, body: ByteBuffer)
        case failed(SendRefusal)
    }

    private let client: HTTPClient
    private let baseURL: String
    /// How long a forward may take in all: the browser's body (`http.requestTimeout`), then the answer.
    private let deadline: TimeAmount
    private let maxResponseSize: Int

    /// `timeout` bounds the backend's answer once it has the whole body (a silent backend: the read
    /// timeout); `bodyTimeout` is how long the body itself may take to arrive.
    init(url: String, timeout: Duration, bodyTimeout: Duration, maxResponseSize: Int, eventLoopGroup: any EventLoopGroup) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
        configuration.timeout = .init(connect: .seconds(5), read: TimeAmount(timeout))
        self.client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        self.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.deadline = TimeAmount(bodyTimeout + timeout)
        self.maxResponseSize = maxResponseSize
    }

    /// Sends `body` on as it arrives; the backend sees it end when the browser's did, and a body that
    /// fails (or a cancelled task) aborts the request before its end.
    func forward(_ request: SendRequest, id: String, body: SendBodyStream.Bytes) async -> Outcome {
        var url = "\(baseURL)/\(request.path.value)"
        if !request.query.raw.isEmpty { url += "?\(request.query.raw)" }
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = .POST
        outgoing.headers = Self.headers(request, id: id)
        outgoing.body = .stream(body, length: request.declaredLength.map { .known(Int64($0)) } ?? .unknown)
        do {
            let response = try await client.execute(outgoing, timeout: deadline)
            let answer = try await response.body.collect(upTo: maxResponseSize)
            return .answered(status: response.status, contentType: response.headers.first(name: "content-type"), body: answer)
        } catch is NIOTooManyBytesError {
            return .failed(SendRefusal(.badGateway, "upstream_answer_too_large", "the backend's answer exceeds \(maxResponseSize) bytes"))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .failed(SendRefusal(.gatewayTimeout, "upstream_timeout", "the backend did not answer in time"))
        } catch {
            return .failed(SendRefusal(.badGateway, "upstream_unreachable", "the backend could not be reached"))
        }
    }

    /// The identity, the idempotency key and the content type; nothing else of the caller's request
    /// (no `Authorization`, no `Cookie`).
    static func headers(_ request: SendRequest, id: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: request.contentType)
        headers.add(name: "Idempotency-Key", value: request.idempotencyKey ?? id)
        headers.add(name: "X-SSE-Send-Id", value: id)
        // The default tenant goes without a header.
        for (name, value) in request.identity.headers where !value.isEmpty { headers.add(name: name, value: value) }
        return headers
    }

    func shutdown() async {
        try? await client.shutdown().get()
    }
}
