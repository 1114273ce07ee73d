import Foundation
import SSEClient
import SSEFanout
import Testing

/// `GET /sse.js` and `/sse.d.ts`: the browser client, served by every node to pages of any origin.
@Suite struct BrowserClientRouteTests {
    static let cluster = Task {
        try await TestCluster.start(nodes: 1, amqpURL: "amqp://guest:guest@127.0.0.1:1/%2f", redisURL: "redis://127.0.0.1:1/0") {
            $0.standalone = true
            $0.corsOrigins = ["https://app.example"]
        }
    }

    private func source(_ name: String) throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return Array(try Data(contentsOf: root.appendingPathComponent("Sources/SSEFanout/Browser/\(name)")))
    }

    @Test func theModuleIsServedCacheableToAnyOrigin() async throws {
        let c = try await Self.cluster.value
        // An origin not on the CORS list may still load the code; its streams are what the list guards.
        let module = try await HTTPClient().request("GET", c.url(0, "/sse.js"), headers: [("Origin", "https://elsewhere.example")])
        #expect(module.status == 200)
        #expect(module.header("Content-Type") == "text/javascript; charset=utf-8")
        #expect(module.header("Access-Control-Allow-Origin") == "*")
        #expect(module.header("Cache-Control")?.contains("max-age") == true)
        #expect(module.body + [10] == (try source("sse.js")))
        let etag = try #require(module.header("ETag"))
        let again = try await HTTPClient().request("GET", c.url(0, "/sse.js"), headers: [("If-None-Match", etag)])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
        let types = try await HTTPClient().request("GET", c.url(0, "/sse.d.ts"))
        #expect(types.status == 200)
        #expect(types.body + [10] == (try source("sse.d.ts")))
        #expect(types.header("ETag") != etag)
    }

    @Test func otherPathsAreNotFiles() async throws {
        let c = try await Self.cluster.value
        #expect(try await HTTPClient().request("GET", c.url(0, "/sse.mjs")).status == 404)
        #expect(try await HTTPClient().request("GET", c.url(0, "/nothing")).status == 404)
        #expect(try await HTTPClient().request("POST", c.url(0, "/sse.js")).status == 404)
    }
}
