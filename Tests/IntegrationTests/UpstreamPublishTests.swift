import Foundation
import SSEClient
import SSEFanout
import Testing

/// Browsers talking back (`POST /send/<path>`, `POST /upload/<path>`) on real nodes with JWT
/// authentication, Redis and RabbitMQ, without an upstream URL: what they send lands on `sse.upstream`
/// with the sender's identity, once.
@Suite(.serialized) struct UpstreamPublishTests {
    static let secret = "an-integration-test-secret-of-32-bytes-or-more"
    /// Past `http.maxBodySize` (64 KiB), the limit of every other body.
    static let maxUploadSize = 256 * 1024

    static let cluster = Task {
        let cluster = try await TestCluster.start(nodes: 2) { configuration in
            configuration.auth.disabled = false
            configuration.auth.jwtSecret = secret
            configuration.maxUploadSize = maxUploadSize
            // One upload's worth: a second one held at the same time is refused.
            configuration.upstreamMaxHeldBytes = maxUploadSize
        }
        try await cluster.waitReady()
        return cluster
    }

    static let minter = Task { try await TestCluster.minter(secret: secret) }

    static func token(user: String, tenant: String? = "acme", sid: String? = "s-1") async throws -> String {
        try await minter.value.mint(user: user, tenant: tenant, sid: sid, ttl: .seconds(600))
    }

    private func post(
        _ node: Int, _ target: String, _ body: [UInt8], contentType: String = "application/json", headers: [(String, String)] = []
    ) async throws -> HTTPResponse {
        let c = try await Self.cluster.value
        return try await HTTPClient().request("POST", c.url(node, target), headers: [("Content-Type", contentType)] + headers, body: body)
    }

    private func answer(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    @Test func aSendReachesSSEUpstreamWithTheSendersIdentityAndItsBody() async throws {
        let c = try await Self.cluster.value
        let room = TestEnvironment.uniqueName("room")
        let listener = try await UpstreamListener.start(bindingKey: "chat.\(room)")
        defer { Task { await listener.stop() } }
        let user = TestEnvironment.uniqueName("u")
        let token = try await Self.token(user: user)
        let (stream, info) = try await c.subscribe(1, "clientId=phone-1", headers: [("Authorization", "Bearer \(token)")])
        defer { Task { await stream.close() } }

        let response = try await post(
            0, "/send/chat/\(room)?room=1&tag=a&tag=b+c&token=\(token)", Array(#"{"text": "hello", "n": [1, 2]}"#.utf8),
            headers: [("Idempotency-Key", "k-\(room)"), ("X-SSE-Client", "phone-1"), ("X-SSE-Connection", info.connectionId)])
        #expect(response.status == 202)
        let id = try #require(try answer(response)["id"] as? String)

        let message = try await listener.message(id: id)
        #expect(message.routingKey == "chat.\(room)")
        #expect(message.persistent)
        #expect(message.headers["x-sse-user"] == user)
        #expect(message.headers["x-sse-tenant"] == "acme")
        #expect(message.headers["x-sse-session"] == "s-1")
        #expect(message.headers["x-sse-client"] == "phone-1")
        #expect(message.headers["x-sse-connection"] == info.connectionId)
        let json = message.json
        #expect(json["id"] as? String == id)
        #expect(json["kind"] as? String == "send")
        #expect(json["path"] as? String == "chat/\(room)")
        #expect(json["user"] as? String == user)
        #expect(json["tenant"] as? String == "acme")
        #expect(json["session"] as? String == "s-1")
        #expect(json["clientId"] as? String == "phone-1")
        #expect(json["connectionId"] as? String == info.connectionId)
        #expect(json["idempotencyKey"] as? String == "k-\(room)")
        #expect(abs(((json["receivedAt"] as? NSNumber)?.doubleValue ?? 0) / 1000 - Date().timeIntervalSince1970) < 60)
        // The token is no part of what the backend gets.
        let query = try #require(json["query"] as? [String: Any])
        #expect(query["room"] as? String == "1")
        #expect(query["tag"] as? [String] == ["a", "b c"])
        #expect(query["token"] == nil)
        #expect(!String(decoding: message.body, as: UTF8.self).contains(token))
        let body = try #require(json["body"] as? [String: Any])
        #expect(body["text"] as? String == "hello")
        #expect(body["n"] as? [Int] == [1, 2])
    }

    @Test func anUploadsFieldsAndFilesArrive() async throws {
        let room = TestEnvironment.uniqueName("room")
        let listener = try await UpstreamListener.start(bindingKey: "files.#")
        defer { Task { await listener.stop() } }
        let user = TestEnvironment.uniqueName("u")
        let token = try await Self.token(user: user)
        let file = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let form = MultipartForm(parts: [
            .field("caption", "a picture, \"quoted\""),
            .file("picture", filename: "cat \"1\".bin", contentType: "application/octet-stream", data: file),
            .file("notes", filename: "notes.txt", contentType: "text/plain", data: Array("line 1\r\nline 2".utf8)),
        ])
        let response = try await post(
            1, "/upload/files/\(room)", form.body, contentType: form.contentType, headers: [("Authorization", "Bearer \(token)")])
        #expect(response.status == 202)
        let id = try #require(try answer(response)["id"] as? String)

        let message = try await listener.message(id: id)
        #expect(message.routingKey == "files.\(room)")
        let json = message.json
        #expect(json["kind"] as? String == "upload")
        #expect(json["user"] as? String == user)
        #expect((json["fields"] as? [String: Any])?["caption"] as? String == "a picture, \"quoted\"")
        let files = try #require(json["files"] as? [[String: Any]])
        #expect(files.count == 2)
        #expect(files[0]["field"] as? String == "picture")
        #expect(files[0]["filename"] as? String == "cat \"1\".bin")
        #expect(files[0]["contentType"] as? String == "application/octet-stream")
        #expect(files[0]["size"] as? Int == file.count)
        #expect(Data(base64Encoded: files[0]["data"] as? String ?? "").map(Array.init) == file)
        #expect(files[1]["filename"] as? String == "notes.txt")
        #expect(Data(base64Encoded: files[1]["data"] as? String ?? "").map { String(decoding: $0, as: UTF8.self) } == "line 1\r\nline 2")
    }

    @Test func aRetriedSendWithTheSameKeyReachesTheBackendOnce() async throws {
        let room = TestEnvironment.uniqueName("room")
        let listener = try await UpstreamListener.start(bindingKey: "retry.\(room)")
        defer { Task { await listener.stop() } }
        let token = try await Self.token(user: TestEnvironment.uniqueName("u"))
        let headers = [("Authorization", "Bearer \(token)"), ("Idempotency-Key", "same-key")]
        let first = try await post(0, "/send/retry/\(room)", Array(#"{"n": 1}"#.utf8), headers: headers)
        #expect(first.status == 202)
        let id = try #require(try answer(first)["id"] as? String)
        // The browser never saw the 202 and sends again, here through the other node.
        let retry = try await post(1, "/send/retry/\(room)", Array(#"{"n": 1}"#.utf8), headers: headers)
        #expect(retry.status == 200)
        #expect(try answer(retry)["id"] as? String == id)
        #expect(try answer(retry)["duplicate"] as? Bool == true)
        // A later send from the same node: had the retry been published, it would have arrived before this.
        let later = try await post(1, "/send/retry/\(room)", Array(#"{"n": 2}"#.utf8), headers: [("Authorization", "Bearer \(token)")])
        _ = try await listener.message(id: try #require(try answer(later)["id"] as? String))
        #expect(listener.messages.filter { $0.json["idempotencyKey"] as? String == "same-key" }.count == 1)
    }

    @Test func aSendWithoutAGoodTokenIsRefusedBeforeAnythingIsSent() async throws {
        let noToken = try await post(0, "/send/chat/x", Array("{}".utf8))
        #expect(noToken.status == 401)
        #expect(try answer(noToken)["error"] as? String == "missing_token")
        let forged = try await post(0, "/send/chat/x", Array("{}".utf8), headers: [("Authorization", "Bearer not.a.token")])
        #expect(forged.status == 401)
        let token = try await Self.token(user: "alice")
        let declared = try await post(0, "/send/chat/x?user=bob", Array("{}".utf8), headers: [("Authorization", "Bearer \(token)")])
        #expect(declared.status == 400)
        #expect(try answer(declared)["error"] as? String == "identity_from_token")
    }

    @Test func aBodyPastItsLimitIs413() async throws {
        let token = try await Self.token(user: "alice")
        let auth = [("Authorization", "Bearer \(token)")]
        let big = Array("[\(String(repeating: "1,", count: 40_000))1]".utf8)
        let send = try await post(0, "/send/chat/x", big, headers: auth)
        #expect(send.status == 413)
        #expect(try answer(send)["error"] as? String == "body_too_large")
        let form = MultipartForm(parts: [.file("f", filename: "big.bin", contentType: "application/octet-stream", data: [UInt8](repeating: 1, count: Self.maxUploadSize))])
        let upload = try await post(0, "/upload/files/x", form.body, contentType: form.contentType, headers: auth)
        #expect(upload.status == 413)
        #expect(try answer(upload)["error"] as? String == "body_too_large")
        // An upload has a limit of its own, larger than a send's.
        let room = TestEnvironment.uniqueName("room")
        let listener = try await UpstreamListener.start(bindingKey: "large.\(room)")
        defer { Task { await listener.stop() } }
        let file = [UInt8](repeating: 2, count: Self.maxUploadSize / 2)
        let large = MultipartForm(parts: [.file("f", filename: "large.bin", contentType: "application/octet-stream", data: file)])
        let accepted = try await post(0, "/upload/large/\(room)", large.body, contentType: large.contentType, headers: auth)
        #expect(accepted.status == 202)
        let message = try await listener.message(id: try #require(try answer(accepted)["id"] as? String))
        #expect((message.json["files"] as? [[String: Any]])?.first?["size"] as? Int == file.count)
    }

    @Test func bodiesHeldAcrossRequestsAreBounded() async throws {
        let c = try await Self.cluster.value
        let room = TestEnvironment.uniqueName("room")
        let listener = try await UpstreamListener.start(bindingKey: "held.\(room)")
        defer { Task { await listener.stop() } }
        let token = try await Self.token(user: "alice")
        let auth = [("Authorization", "Bearer \(token)")]
        let file = [UInt8](repeating: 7, count: Self.maxUploadSize * 2 / 3)
        let form = MultipartForm(parts: [.file("f", filename: "f.bin", contentType: "application/octet-stream", data: file)])
        let body = String(decoding: form.body, as: UTF8.self)
        // The first upload announces its length and sends a little of its body: its share is held from its head on.
        let head = "POST /upload/held/\(room) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: \(form.contentType)\r\n"
            + "Content-Length: \(form.body.count)\r\nConnection: close\r\n\r\n"
        let first = try await RawStreamClient.raw(port: c.nodes[0].port, sending: head + body.prefix(1000))
        defer { Task { await first.close() } }
        // Awaited, not raced: a second upload whose head the node read first would hold the share instead.
        try await TestEnvironment.eventually("the first upload's share is held") { c.nodes[0].heldBodyBytes >= form.body.count }
        // Another one as large does not fit beside it.
        let second = try await post(0, "/upload/elsewhere/\(room)", form.body, contentType: form.contentType, headers: auth)
        #expect(second.status == 503)
        #expect(try answer(second)["error"] as? String == "busy")
        #expect(second.header("Retry-After") != nil)
        try await first.send(String(body.dropFirst(1000)))
        try await first.waitClosed(timeout: .seconds(10))
        #expect(first.text.hasPrefix("HTTP/1.1 202"))
        // Once the first is answered its share is given back.
        let third = try await post(0, "/upload/held/\(room)", form.body, contentType: form.contentType, headers: auth)
        #expect(third.status == 202)
        // Both were published, the first too once the rest of its body came.
        let firstAnswer = try #require(first.text.components(separatedBy: "\r\n\r\n").last)
        let firstID = try #require(try JSONSerialization.jsonObject(with: Data(firstAnswer.utf8)) as? [String: Any])["id"] as? String
        _ = try await listener.message(id: try #require(firstID))
        _ = try await listener.message(id: try #require(try answer(third)["id"] as? String))
    }

    @Test func badPathsTypesAndKeysAre4xx() async throws {
        let token = try await Self.token(user: "alice")
        let auth = [("Authorization", "Bearer \(token)")]
        for path in ["/send/", "/send/chat/../admin", "/send/chat//x", "/send/chat/%2e%2e", "/send/chat/x/", "/send/a*b", "/send/\(String(repeating: "a", count: 256))"] {
            let response = try await post(0, path, Array("{}".utf8), headers: auth)
            #expect(response.status == 400, "\(path)")
            #expect(try answer(response)["error"] as? String == "invalid_path", "\(path)")
        }
        #expect(try await post(0, "/send/chat/x", Array("{}".utf8), contentType: "text/plain", headers: auth).status == 415)
        #expect(try await post(0, "/upload/chat/x", Array("{}".utf8), headers: auth).status == 415)
        let notJSON = try await post(0, "/send/chat/x", Array("{oops".utf8), headers: auth)
        #expect(notJSON.status == 400)
        #expect(try answer(notJSON)["error"] as? String == "invalid_json")
        let longKey = try await post(0, "/send/chat/x", Array("{}".utf8), headers: auth + [("Idempotency-Key", String(repeating: "k", count: 129))])
        #expect(longKey.status == 400)
        #expect(try answer(longKey)["error"] as? String == "invalid_idempotency_key")
        let c = try await Self.cluster.value
        #expect(try await HTTPClient().request("GET", c.url(0, "/send/chat/x"), headers: auth).status == 405)
    }

    @Test func aConnectionThatIsNotTheSendersIsLeftOut() async throws {
        let c = try await Self.cluster.value
        let room = TestEnvironment.uniqueName("room")
        let listener = try await UpstreamListener.start(bindingKey: "forged.\(room)")
        defer { Task { await listener.stop() } }
        let bobToken = try await Self.token(user: TestEnvironment.uniqueName("bob"))
        let (bobStream, bob) = try await c.subscribe(1, "", headers: [("Authorization", "Bearer \(bobToken)")])
        defer { Task { await bobStream.close() } }
        // The same user name in another tenant is someone else too.
        let alice = TestEnvironment.uniqueName("alice")
        let otherTenant = try await Self.token(user: alice, tenant: "other")
        let (otherStream, elsewhere) = try await c.subscribe(1, "", headers: [("Authorization", "Bearer \(otherTenant)")])
        defer { Task { await otherStream.close() } }

        let token = try await Self.token(user: alice)
        for connection in [bob.connectionId, elsewhere.connectionId, "no-such-connection"] {
            let response = try await post(
                0, "/send/forged/\(room)", Array("{}".utf8), headers: [("Authorization", "Bearer \(token)"), ("X-SSE-Connection", connection)])
            #expect(response.status == 202)
            let message = try await listener.message(id: try #require(try answer(response)["id"] as? String))
            #expect(message.json["connectionId"] == nil)
            #expect(message.headers["x-sse-connection"] == nil)
            #expect(message.json["user"] as? String == alice)
        }
    }

    @Test func aPreflightLetsTheClientsHeadersThroughAndOtherOriginsAreRefused() async throws {
        let c = try await Self.cluster.value
        let requested = "authorization, content-type, idempotency-key, x-sse-client, x-sse-connection"
        let preflight = try await HTTPClient().request(
            "OPTIONS", c.url(0, "/send/chat/x"),
            headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", requested)])
        #expect(preflight.status == 204)
        #expect(preflight.header("Access-Control-Allow-Headers") == requested)
        #expect(preflight.header("Access-Control-Allow-Methods")?.contains("POST") == true)
        let token = try await Self.token(user: "alice")
        let elsewhere = try await post(0, "/send/chat/x", Array("{}".utf8), headers: [("Authorization", "Bearer \(token)"), ("Origin", "https://evil.example")])
        #expect(elsewhere.status == 403)
        #expect(try answer(elsewhere)["error"] as? String == "origin_not_allowed")
    }

    /// Standalone: no RabbitMQ, no Redis; the in-process broker keeps what it got and the claims are in memory.
    @Test func aStandaloneNodeKeepsSendsAndTakesARetriedOneOnce() async throws {
        let node = try await TestCluster.start(nodes: 1, amqpURL: "amqp://guest:guest@127.0.0.1:1/%2f", redisURL: "redis://127.0.0.1:1/0") {
            $0.standalone = true
        }
        defer { Task { await node.stop() } }
        let (stream, info) = try await node.subscribe(0, "user=solo&tenant=t1&session=s")
        defer { Task { await stream.close() } }
        var ids: [String] = []
        for _ in 0..<2 {
            let response = try await HTTPClient().request(
                "POST", node.url(0, "/send/chat/solo?user=solo&tenant=t1&session=s&x=1"),
                headers: [("Content-Type", "application/json"), ("Idempotency-Key", "solo-1"), ("X-SSE-Connection", info.connectionId)],
                body: Array(#"{"hi": true}"#.utf8))
            #expect(response.status == (ids.isEmpty ? 202 : 200))
            ids.append(try #require(try answer(response)["id"] as? String))
        }
        #expect(ids[0] == ids[1])
        let broker = try #require(node.nodes[0].broker as? InProcessBroker)
        let kept = broker.upstreamPublications.filter { $0.messageID == ids[0] }
        #expect(kept.count == 1)
        #expect(kept.first?.routingKey == "chat.solo")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(kept.first?.body ?? [])) as? [String: Any])
        #expect(json["user"] as? String == "solo")
        #expect(json["tenant"] as? String == "t1")
        #expect(json["session"] as? String == "s")
        #expect(json["connectionId"] as? String == info.connectionId)
        #expect(json["query"] as? [String: String] == ["x": "1"])
    }

    @Test func nothingBoundForTheRoutingKeyIs503() async throws {
        let token = try await Self.token(user: "alice")
        let response = try await post(
            0, "/send/\(TestEnvironment.uniqueName("unbound"))", Array("{}".utf8),
            headers: [("Authorization", "Bearer \(token)"), ("Idempotency-Key", TestEnvironment.uniqueName("unbound")), ("Origin", "https://app.example")])
        #expect(response.status == 503)
        #expect(try answer(response)["error"] as? String == "not_routed")
        #expect(response.header("Retry-After") != nil)
        // A page on another origin may read it, to know when to try again.
        #expect(response.header("Access-Control-Expose-Headers") == "Retry-After")
    }
}
