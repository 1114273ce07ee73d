import Foundation
import SSEClient
import SSEFanout
import Testing

/// What a careless or hostile HTTP client cannot do to a node: hold connections with requests that
/// never finish, send huge heads, or smuggle requests behind a stream's.
@Suite struct HTTPHardeningTests {
    static let cluster = Task {
        let cluster = try await TestCluster.start(nodes: 1) { configuration in
            configuration.requestTimeout = .seconds(1)
            configuration.idleTimeout = .seconds(1)
        }
        try await cluster.waitReady()
        return cluster
    }

    private func port() async throws -> Int { try await Self.cluster.value.nodes[0].port }

    @Test func aHeadSentByteByByteIsCutOffAfterTheRequestTimeout() async throws {
        let client = try await RawStreamClient.raw(port: try await port(), sending: "GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try await client.send("X-Slow: 1\r\n")
        let start = ContinuousClock.now
        try await client.waitClosed(timeout: .seconds(5))
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(client.text.isEmpty)
    }

    @Test func aBodyThatNeverEndsGets408AndTheConnectionCloses() async throws {
        let head = "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        let client = try await RawStreamClient.raw(port: try await port(), sending: head + #"{"target":"#)
        try await client.waitClosed(timeout: .seconds(5))
        #expect(client.text.hasPrefix("HTTP/1.1 408"))
        #expect(client.text.contains(#""error":"request_timeout""#))
    }

    @Test func aChunkedBodyWithoutEndIsCutOffToo() async throws {
        let head = "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
        let client = try await RawStreamClient.raw(port: try await port(), sending: head)
        try await client.waitClosed(timeout: .seconds(5))
        #expect(client.text.hasPrefix("HTTP/1.1 408"))
    }

    @Test func anIdleKeptAliveConnectionIsClosed() async throws {
        let client = try await RawStreamClient.raw(port: try await port(), sending: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try await client.waitClosed(timeout: .seconds(5))
        #expect(client.text.hasPrefix("HTTP/1.1 200"))
    }

    @Test func anOversizedHeadIsRefused() async throws {
        let big = String(repeating: "a", count: 20 * 1024)
        let client = try await RawStreamClient.raw(port: try await port(), sending: "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n")
        try await client.waitClosed(timeout: .seconds(5))
        #expect(client.text.hasPrefix("HTTP/1.1 431"))
        #expect(client.text.contains(#""error":"header_too_large""#))
    }

    @Test func aHeadWithTooManyFieldsIsRefused() async throws {
        let fields = (0..<101).map { "X-Field-\($0): 1\r\n" }.joined()
        let client = try await RawStreamClient.raw(port: try await port(), sending: "GET /healthz HTTP/1.1\r\nHost: x\r\n\(fields)\r\n")
        try await client.waitClosed(timeout: .seconds(5))
        #expect(client.text.hasPrefix("HTTP/1.1 431"))
        #expect(client.text.contains(#""error":"header_too_large""#))
    }

    @Test func aMalformedRequestGets400SayingWhy() async throws {
        let client = try await RawStreamClient.raw(port: try await port(), sending: "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n")
        try await client.waitClosed(timeout: .seconds(5))
        #expect(client.text.hasPrefix("HTTP/1.1 400"))
        #expect(client.text.contains("application/json"))
        #expect(client.text.contains(#""error":"bad_request""#))
    }

    @Test func requestsPipelinedBehindAStreamAreNeitherRunNorAnswered() async throws {
        let c = try await Self.cluster.value
        // The smuggled publish goes to a watcher already registered, so it would arrive if it ran.
        let watcher = TestEnvironment.uniqueName("w")
        let (watching, _) = try await c.subscribe(0, "user=\(watcher)")
        defer { Task { await watching.close() } }
        let smuggled = #"{"target":{"type":"user","id":"\#(watcher)"},"data":"smuggled"}"#
        let pipelined = "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)"
        let stream = try await RawStreamClient.open(port: c.nodes[0].port, path: "/events?user=\(TestEnvironment.uniqueName("u"))", trailing: pipelined)
        defer { Task { await stream.close() } }
        try await TestEnvironment.eventually("connected") { stream.text.contains("event: connected") }
        #expect(try await c.publish(0, #"{"target":{"type":"user","id":"\#(watcher)"},"data":"marker"}"#).status == 202)
        #expect(try await watching.nextOwn()?.data == "marker")
        #expect(stream.text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(!stream.text.contains("HTTP/1.1 202"))
    }

    @Test func probesAnswerHEAD() async throws {
        let c = try await Self.cluster.value
        let health = try await HTTPClient().request("HEAD", c.url(0, "/healthz"))
        #expect(health.status == 200)
        #expect(health.body.isEmpty)
        #expect(try await HTTPClient().request("HEAD", c.url(0, "/readyz")).status == 200)
    }
}
