import Foundation
import SSEClient
import SSEFanout
import Testing

/// Limits that keep one node serving: how many streams it holds.
@Suite struct LimitsTests {
    @Test func aFullNodeAnswers503WithRetryAfterAndStillServesProbesAndItsStreams() async throws {
        let cluster = try await TestCluster.start(nodes: 1) { $0.maxConnections = 2 }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let (first, _) = try await cluster.subscribe(0, "user=\(user)")
        let (second, _) = try await cluster.subscribe(0, "user=\(user)")
        do {
            let third = try await SSEStream.connect(cluster.url(0, "/events?user=\(user)"))
            await third.close()
            Issue.record("a third stream was accepted")
        } catch SSEClientError.unexpectedStatus(let status, let body) {
            #expect(status == 503)
            #expect(body.contains("node_full"))
        }
        let refused = try await HTTPClient().request("GET", cluster.url(0, "/events?user=\(user)"))
        #expect(refused.headers.contains { $0.0.lowercased() == "retry-after" })
        #expect(try await HTTPClient().request("GET", cluster.url(0, "/healthz")).status == 200)
        #expect(try await HTTPClient().request("GET", cluster.url(0, "/readyz")).status == 200)
        #expect(try await cluster.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"both"}"#).status == 202)
        #expect(try await first.nextOwn()?.data == "both")
        #expect(try await second.nextOwn()?.data == "both")
        // A closed stream frees its place.
        await first.close()
        try await TestEnvironment.eventually("a place is free") { cluster.nodes[0].hub.connectionCount < 2 }
        let (again, _) = try await cluster.subscribe(0, "user=\(user)")
        await again.close()
        await second.close()
    }
}
