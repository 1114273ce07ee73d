import Foundation
import NIOHTTP1
import SSEClient
import SSEFanout
import Testing

/// Sends and uploads streamed to an HTTP backend (`upstream.url`) as the browser sends them, over raw
/// connections that send a body in parts: the backend has the first part while the rest is still to
/// come, a body past its limit or not JSON aborts the backend's request, and so does a browser that
/// stalls; the idempotency claim of an aborted send is given back.
@Suite(.serialized) struct UpstreamStreamingTests {
    static let maxUploadSize = 64 * 1024

    static let backend = Task {
        try await TestBackend.start { request in
            .init(status: .created, contentType: "text/plain; charset=utf-8", body: Array("took \(request.body.count) bytes at \(request.uri)".utf8))
        }
    }

    static let cluster = Task {
        let server = try await Self.backend.value
        let cluster = try await TestCluster.start(nodes: 1) { configuration in
            configuration.upstreamURL = server.url
            configuration.maxUploadSize = maxUploadSize
            configuration.requestTimeout = .seconds(2)
        }
        try await cluster.waitReady()
        return cluster
    }

    /// Sends a request's head and the first part of its body on a connection of its own.
    private func begin(_ target: String, _ headers: [(String, String)], first: String) async throws -> RawStreamClient {
        let c = try await Self.cluster.value
        let head = "POST \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        return try await RawStreamClient.raw(port: c.nodes[0].port, sending: head + first)
    }

    private func chunk(_ text: String) -> String {
        String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
    }

    private func post(_ target: String, _ body: String, contentType: String, headers: [(String, String)] = []) async throws -> HTTPResponse {
        let c = try await Self.cluster.value
        return try await HTTPClient().request("POST", c.url(0, target), headers: [("Content-Type", contentType)] + headers, body: Array(body.utf8))
    }

    @Test func anUploadReachesTheBackendWhileTheBrowserIsStillSendingIt() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        let form = MultipartForm(parts: [
            .field("caption", "hello"), .file("doc", filename: "a.txt", contentType: "text/plain", data: Array(String(repeating: "x", count: 40_000).utf8)),
        ])
        let body = String(decoding: form.body, as: UTF8.self)
        let first = String(body.prefix(20_000))
        let client = try await begin(
            "/upload/files/\(room)?user=alice&tenant=acme&session=s-1&x=1",
            [("Content-Type", form.contentType), ("Content-Length", "\(form.body.count)"), ("X-SSE-Client", "tab-7"), ("Connection", "close")],
            first: first)
        defer { Task { await client.close() } }
        let uri = "/files/\(room)?x=1"

        // The first part reached the backend while the rest has not even been sent.
        let early = try await backend.arrival(uri) { $0.bytes >= first.utf8.count }
        #expect(!early.ended)
        #expect(early.headers.first(name: "X-SSE-User") == "alice")
        #expect(early.headers.first(name: "X-SSE-Tenant") == "acme")
        #expect(early.headers.first(name: "X-SSE-Session") == "s-1")
        #expect(early.headers.first(name: "X-SSE-Client") == "tab-7")
        #expect(early.headers.first(name: "Content-Type") == form.contentType)
        #expect(early.headers.first(name: "Content-Length") == "\(form.body.count)")

        try await client.send(String(body.dropFirst(first.count)))
        try await client.waitClosed(timeout: .seconds(10))
        // The backend's answer as it is.
        #expect(client.text.hasPrefix("HTTP/1.1 201 Created\r\n"))
        #expect(client.text.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"))
        #expect(client.text.hasSuffix("\r\n\r\ntook \(form.body.count) bytes at \(uri)"))
        let request = try #require(backend.requests.first { $0.uri == uri })
        #expect(request.body == form.body)
    }

    @Test func aChunkedSendGoesOnChunkedWhileItIsJSONSoFar() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        let parts = [#"{"text": ""#, String(repeating: "a", count: 10_000), #"", "n": [1, 2]}"#]
        let client = try await begin(
            "/send/chat/\(room)?user=bob", [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"), ("Connection", "close")],
            first: chunk(parts[0]))
        defer { Task { await client.close() } }
        let early = try await backend.arrival("/chat/\(room)") { $0.bytes >= parts[0].utf8.count }
        #expect(!early.ended)
        #expect(early.headers.first(name: "Transfer-Encoding") == "chunked")
        #expect(early.headers.first(name: "X-SSE-User") == "bob")

        try await client.send(chunk(parts[1]) + chunk(parts[2]) + "0\r\n\r\n")
        try await client.waitClosed(timeout: .seconds(10))
        #expect(client.text.hasPrefix("HTTP/1.1 201 Created\r\n"))
        let request = try #require(backend.requests.first { $0.uri == "/chat/\(room)" })
        #expect(request.body == Array(parts.joined().utf8))
    }

    @Test func aBodyPastItsLimitMidStreamIs413AndTheBackendsRequestIsAborted() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        let key = ("Idempotency-Key", "big-\(room)")
        let contentType = "multipart/form-data; boundary=b"
        let first = String(repeating: "x", count: 40_000)
        let client = try await begin("/upload/files/\(room)?user=carol", [("Content-Type", contentType), ("Transfer-Encoding", "chunked"), key], first: chunk(first))
        defer { Task { await client.close() } }
        _ = try await backend.arrival("/files/\(room)") { $0.bytes >= first.utf8.count }

        try await client.send(chunk(String(repeating: "y", count: Self.maxUploadSize - first.utf8.count + 1)))
        try await client.waitClosed(timeout: .seconds(10))
        #expect(client.text.hasPrefix("HTTP/1.1 413"))
        #expect(client.text.contains(#"{"error":"body_too_large","message":"the body exceeds \#(Self.maxUploadSize) bytes"}"#))
        let cut = try await backend.arrival("/files/\(room)") { $0.aborted }
        #expect(!cut.ended)
        #expect(cut.bytes <= Self.maxUploadSize)

        // The aborted send was not handed on: its claim was given back, and the retry goes through.
        let retry = try await post("/upload/files/\(room)?user=carol", "--b--\r\n", contentType: contentType, headers: [key])
        #expect(retry.status == 201)
        #expect(backend.requests.filter { $0.uri == "/files/\(room)" }.count == 1)
    }

    @Test func aBrowserThatStallsMidBodyIsCutOffAndTheBackendsRequestIsAborted() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        let key = ("Idempotency-Key", "stall-\(room)")
        let first = #"{"text": "never finished"#
        let client = try await begin(
            "/send/chat/\(room)?user=dave", [("Content-Type", "application/json"), ("Content-Length", "1000"), key], first: first + ", ")
        defer { Task { await client.close() } }
        _ = try await backend.arrival("/chat/\(room)") { $0.bytes >= first.utf8.count }

        try await client.waitClosed(timeout: .seconds(10))
        #expect(client.text.hasPrefix("HTTP/1.1 408"))
        #expect(client.text.contains(#""error":"request_timeout""#))
        let cut = try await backend.arrival("/chat/\(room)") { $0.aborted }
        #expect(!cut.ended)

        let retry = try await post("/send/chat/\(room)?user=dave", #"{"text": "finished"}"#, contentType: "application/json", headers: [key])
        #expect(retry.status == 201)
    }

    @Test func aSendThatIsNotJSONNeverReachesTheBackendWhole() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        // Each part is JSON so far; the whole is not: it ends inside the array.
        let parts = [#"{"a": [1, 2, "#, "3"]
        let length = parts.joined().utf8.count
        let client = try await begin(
            "/send/chat/\(room)?user=erin", [("Content-Type", "application/json"), ("Content-Length", "\(length)")], first: parts[0])
        defer { Task { await client.close() } }
        _ = try await backend.arrival("/chat/\(room)") { $0.bytes >= parts[0].utf8.count }

        // The last part would complete the backend's request: it waits for the check, which fails.
        try await client.send(parts[1])
        try await client.waitClosed(timeout: .seconds(10))
        #expect(client.text.hasPrefix("HTTP/1.1 400"))
        #expect(client.text.contains(#""error":"invalid_json""#))
        let cut = try await backend.arrival("/chat/\(room)") { $0.aborted }
        #expect(!cut.ended)
        #expect(cut.bytes < length)

        // A body that stops being JSON midway is refused at once, its end never awaited.
        let early = try await begin(
            "/send/chat/\(room)-2?user=erin", [("Content-Type", "application/json"), ("Content-Length", "1000")], first: #"{"a": x"#)
        defer { Task { await early.close() } }
        try await early.waitClosed(timeout: .seconds(10))
        #expect(early.text.hasPrefix("HTTP/1.1 400"))
        #expect(early.text.contains(#""error":"invalid_json""#))
        #expect(!backend.requests.contains { $0.uri.hasPrefix("/chat/\(room)") })
    }

    @Test func anAnnouncedLengthPastTheLimitReachesNothing() async throws {
        let backend = try await Self.backend.value
        let room = TestEnvironment.uniqueName("room")
        let client = try await begin(
            "/upload/files/\(room)?user=frank", [("Content-Type", "multipart/form-data; boundary=b"), ("Content-Length", "\(Self.maxUploadSize + 1)")],
            first: "")
        defer { Task { await client.close() } }
        try await client.waitClosed(timeout: .seconds(10))
        #expect(client.text.hasPrefix("HTTP/1.1 413"))
        #expect(backend.arrival("/files/\(room)") == nil)
    }
}
