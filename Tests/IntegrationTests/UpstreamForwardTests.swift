import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import SSEClient
import SSEFanout
import Testing

/// Browsers' sends and uploads forwarded to an HTTP backend (`upstream.url`), on real nodes with JWT
/// authentication, Redis (the once-only claims) and RabbitMQ: the backend gets the sender's identity and
/// none of the caller's credentials, and the browser gets the backend's answer as it is.
@Suite(.serialized) struct UpstreamForwardTests {
    static let secret = "an-integration-test-secret-of-32-bytes-or-more"
    static let maxUploadSize = 64 * 1024

    /// Requests to `/held/...` wait until a test lets them go; `/slow/...` never get an answer in time.
    static let gates = NIOLockedValueBox<[String: AsyncStream<Void>.Continuation]>([:])

    static let backend = Task {
        try await TestBackend.start { request in
            if request.uri.hasPrefix("/held/") {
                let (stream, continuation) = AsyncStream<Void>.makeStream()
                gates.withLockedValue { $0[request.uri] = continuation }
                for await _ in stream { break }
            }
            if request.uri.hasPrefix("/slow/") { try? await Task.sleep(for: .seconds(5)) }
            if request.uri.hasPrefix("/broken/") { return .init(status: .internalServerError, contentType: "text/plain", body: Array("down".utf8)) }
            return .init(status: .created, contentType: "text/plain; charset=utf-8", body: Array("made it: \(request.uri)".utf8))
        }
    }

    static let cluster = Task {
        let server = try await Self.backend.value
        let cluster = try await TestCluster.start(nodes: 2) { configuration in
            configuration.auth.disabled = false
            configuration.auth.jwtSecret = secret
            configuration.upstreamURL = server.url + "/"
            configuration.upstreamTimeout = .seconds(2)
            configuration.maxUploadSize = maxUploadSize
            configuration.upstreamMaxHeldBytes = maxUploadSize
        }
        try await cluster.waitReady()
        return cluster
    }

    static func token(user: String) async throws -> String {
        var configuration = AuthConfiguration()
        configuration.jwtSecret = secret
        return try await Authenticator.load(configuration).mint(user: user, tenant: "acme", sid: "s-9", ttl: .seconds(600))
    }

    /// Lets the held request to `uri` go, once it arrived.
    static func release(_ uri: String) async throws {
        try await TestEnvironment.eventually("the backend holds \(uri)") { gates.withLockedValue { $0[uri] } != nil }
        gates.withLockedValue { $0.removeValue(forKey: uri) }?.yield()
    }

    private func post(_ node: Int, _ target: String, _ body: [UInt8], contentType: String = "application/json", headers: [(String, String)]) async throws -> HTTPResponse {
        let c = try await Self.cluster.value
        return try await HTTPClient().request("POST", c.url(node, target), headers: [("Content-Type", contentType)] + headers, body: body)
    }

    private func error(_ response: HTTPResponse) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any])?["error"] as? String
    }

    @Test func theBackendGetsTheIdentityAndNoCredentialsAndItsAnswerComesBackAsIs() async throws {
        let c = try await Self.cluster.value
        let backend = try await Self.backend.value
        let user = TestEnvironment.uniqueName("u")
        let token = try await Self.token(user: user)
        let (stream, info) = try await c.subscribe(0, "", headers: [("Authorization", "Bearer \(token)")])
        defer { Task { await stream.close() } }
        let room = TestEnvironment.uniqueName("room")
        let body = Array(#"{"text": "hi"}"#.utf8)
        let response = try await post(
            1, "/send/chat/\(room)?a=1&token=\(token)&b=x%20y", body,
            headers: [
                ("Cookie", "sse_token=\(token); theme=dark"), ("Idempotency-Key", "key-\(room)"), ("X-SSE-Client", "tab-7"),
                ("X-SSE-Connection", info.connectionId),
            ])
        #expect(response.status == 201)
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.bodyString == "made it: /chat/\(room)?a=1&b=x%20y")

        let request = try #require(backend.requests.first { $0.uri.hasPrefix("/chat/\(room)") })
        #expect(request.method == .POST)
        #expect(request.body == body)
        #expect(request.headers.first(name: "X-SSE-User") == user)
        #expect(request.headers.first(name: "X-SSE-Tenant") == "acme")
        #expect(request.headers.first(name: "X-SSE-Session") == "s-9")
        #expect(request.headers.first(name: "X-SSE-Client") == "tab-7")
        #expect(request.headers.first(name: "X-SSE-Connection") == info.connectionId)
        #expect(request.headers.first(name: "Idempotency-Key") == "key-\(room)")
        #expect(request.headers.first(name: "Content-Type") == "application/json")
        #expect(request.headers["Authorization"].isEmpty)
        #expect(request.headers["Cookie"].isEmpty)
        #expect(!request.uri.contains(token))
    }

    @Test func anUploadIsForwardedWithItsForm() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        let form = MultipartForm(parts: [.field("caption", "hello"), .file("doc", filename: "a.txt", contentType: "text/plain", data: Array("abc".utf8))])
        let token = try await Self.token(user: "uploader")
        let response = try await post(0, "/upload/files/\(room)", form.body, contentType: form.contentType, headers: [("Authorization", "Bearer \(token)")])
        #expect(response.status == 201)
        let request = try #require(backend.requests.first { $0.uri == "/files/\(room)" })
        #expect(request.body == form.body)
        #expect(request.headers.first(name: "Content-Type") == form.contentType)
        #expect(request.headers.first(name: "X-SSE-User") == "uploader")
    }

    @Test func aRetriedSendReachesTheBackendOnceAndOneInFlightIs409() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        let token = try await Self.token(user: TestEnvironment.uniqueName("u"))
        let headers = [("Authorization", "Bearer \(token)"), ("Idempotency-Key", "once-\(room)")]
        let uri = "/held/\(room)"
        async let first = post(0, "/send\(uri)", Array("{}".utf8), headers: headers)
        try await TestEnvironment.eventually("the first attempt reached the backend") { backend.requests.contains { $0.uri == uri } }
        // The browser gave up on the first attempt and retries while it is still with the backend.
        let whileHeld = try await post(1, "/send\(uri)", Array("{}".utf8), headers: headers)
        #expect(whileHeld.status == 409)
        #expect(error(whileHeld) == "in_flight")
        try await Self.release(uri)
        #expect(try await first.status == 201)
        let after = try await post(1, "/send\(uri)", Array("{}".utf8), headers: headers)
        #expect(after.status == 200)
        #expect(after.bodyString.contains(#""duplicate":true"#))
        #expect(backend.requests.filter { $0.uri == uri }.count == 1)
    }

    @Test func aFailedForwardLetsTheRetryThrough() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        let token = try await Self.token(user: "u")
        let headers = [("Authorization", "Bearer \(token)"), ("Idempotency-Key", "failing-\(room)")]
        for _ in 0..<2 {
            let response = try await post(0, "/send/broken/\(room)", Array("{}".utf8), headers: headers)
            #expect(response.status == 500)
            #expect(response.bodyString == "down")
        }
        #expect(backend.requests.filter { $0.uri == "/broken/\(room)" }.count == 2)
    }

    @Test func aBackendThatDoesNotAnswerInTimeIs504AndOneThatCannotBeReachedIs502() async throws {
        let token = try await Self.token(user: "u")
        let slow = try await post(0, "/send/slow/\(TestEnvironment.uniqueName("room"))", Array("{}".utf8), headers: [("Authorization", "Bearer \(token)")])
        #expect(slow.status == 504)
        #expect(error(slow) == "upstream_timeout")

        let away = try await TestCluster.start(nodes: 1) { configuration in
            configuration.upstreamURL = "http://127.0.0.1:1"
        }
        defer { Task { await away.stop() } }
        let response = try await HTTPClient().request(
            "POST", away.url(0, "/send/chat/x?user=u"), headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        #expect(response.status == 502)
        #expect(error(response) == "upstream_unreachable")
    }

    @Test func forwardedBodiesAreNotHeldAgainstTheNodesBudget() async throws {
        let backend = try await Self.backend.value
        let token = try await Self.token(user: "u")
        let room = TestEnvironment.uniqueName("room")
        let part = [UInt8](repeating: 7, count: Self.maxUploadSize * 2 / 3)
        let form = MultipartForm(parts: [.file("f", filename: "f.bin", contentType: "application/octet-stream", data: part)])
        let uri = "/held/\(room)"
        async let first = post(0, "/upload\(uri)", form.body, contentType: form.contentType, headers: [("Authorization", "Bearer \(token)")])
        try await TestEnvironment.eventually("the first upload reached the backend") { backend.requests.contains { $0.uri == uri } }
        // `upstream.maxHeldBytes` is one upload here, and a second one still goes through: a streamed body is not held.
        let second = try await post(0, "/upload/files/\(room)", form.body, contentType: form.contentType, headers: [("Authorization", "Bearer \(token)")])
        #expect(second.status == 201)
        try await Self.release(uri)
        #expect(try await first.status == 201)
    }
}
