import Foundation
import Logging
import SSEClient
import SSEFanout
import Testing

/// Limits that keep one node serving: how many streams it holds.
@Suite struct LimitsTests {
    @Test func aFullNodeAnswers503WithRetryAfterAndStillServesProbesAndItsStreams() async throws {
        let lines = CapturingLogHandler.Lines()
        let cluster = try await TestCluster.start(nodes: 1, logger: Logger(label: "test-full") { _ in CapturingLogHandler(lines: lines) }) {
            $0.maxConnections = 2
        }
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
        // Once per interval, however many are refused.
        #expect(lines.all.filter { $0.contains("connection limit reached: refusing streams with 503") }.count == 1)
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

    @Test func overTheUserLimitTheOldestStreamAnywhereIsClosedAsReplaced() async throws {
        let lines = CapturingLogHandler.Lines()
        let cluster = try await TestCluster.start(nodes: 2, logger: Logger(label: "test-user") { _ in CapturingLogHandler(lines: lines) }) {
            $0.maxConnectionsPerUser = 2
        }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let (oldest, _) = try await cluster.subscribe(0, "user=\(user)")
        let (middle, _) = try await cluster.subscribe(1, "user=\(user)")
        try await TestEnvironment.eventually("both registered") {
            (try? await cluster.nodes[0].registry.userPresence(user, tenant: "", limit: 10).connections.count) == 2
        }
        let (newest, _) = try await cluster.subscribe(1, "user=\(user)")
        defer { Task { await middle.close(); await newest.close() } }
        let farewell = try #require(try await oldest.nextOwn())
        #expect(farewell.event == "close")
        #expect(farewell.data == #"{"reason":"replaced","reconnect":false}"#)
        #expect(lines.all.contains { $0.contains("per-user connection limit reached: closing the oldest") })
        try await oldest.waitClosed()
        #expect(try await cluster.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"to the two left"}"#).status == 202)
        #expect(try await middle.nextOwn()?.data == "to the two left")
        #expect(try await newest.nextOwn()?.data == "to the two left")
    }

    @Test func overTheUserLimitANewStreamCanBeRefusedInstead() async throws {
        let cluster = try await TestCluster.start(nodes: 2) { configuration in
            configuration.maxConnectionsPerUser = 1
            configuration.overUserLimit = .refuseNew
        }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let (first, _) = try await cluster.subscribe(0, "user=\(user)")
        defer { Task { await first.close() } }
        try await TestEnvironment.eventually("registered") {
            (try? await cluster.nodes[1].registry.userPresence(user, tenant: "", limit: 10).connections.count) == 1
        }
        do {
            let second = try await SSEStream.connect(cluster.url(1, "/events?user=\(user)"))
            await second.close()
            Issue.record("a second stream of the user was accepted")
        } catch SSEClientError.unexpectedStatus(let status, let body) {
            #expect(status == 429)
            #expect(body.contains("too_many_connections"))
        }
        // Another user is not affected.
        let (other, _) = try await cluster.subscribe(1, "user=\(TestEnvironment.uniqueName("u"))")
        await other.close()
    }

    @Test func anAddressPastItsLimitGets429WhileOtherAddressesAndProbesGetThrough() async throws {
        let lines = CapturingLogHandler.Lines()
        let cluster = try await TestCluster.start(nodes: 1, logger: Logger(label: "test-address") { _ in CapturingLogHandler(lines: lines) }) {
            $0.maxConnectionsPerAddress = 2
        }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let user = TestEnvironment.uniqueName("u")
        // Clients on this machine connect from 127.0.0.1.
        let (first, _) = try await cluster.subscribe(0, "user=\(user)")
        let (second, _) = try await cluster.subscribe(0, "user=\(user)")
        defer { Task { await second.close() } }
        let refused = try await HTTPClient().request("GET", cluster.url(0, "/events?user=\(user)"))
        #expect(refused.status == 429)
        #expect(refused.bodyString.contains("too_many_connections_from_address"))
        #expect(refused.headers.contains { $0.0.lowercased() == "retry-after" })
        #expect(lines.all.contains { $0.contains("per-address connection limit reached") && $0.contains("address=127.0.0.1") })
        // Probes are never limited, nor the publish routes.
        #expect(try await HTTPClient().request("GET", cluster.url(0, "/healthz")).status == 200)
        #expect(try await HTTPClient().request("GET", cluster.url(0, "/readyz")).status == 200)
        #expect(try await cluster.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"x"}"#).status == 202)

        // Another address has places of its own.
        let other = try await RawStreamClient.open(port: cluster.nodes[0].port, path: "/events?user=\(user)", from: "127.0.0.2")
        defer { Task { await other.close() } }
        try await TestEnvironment.eventually("a stream from 127.0.0.2") { other.text.contains("event: connected") }

        // A closed stream gives its place back.
        await first.close()
        var again: SSEStream?
        try await TestEnvironment.eventually("a place free again for 127.0.0.1") {
            again = try? await SSEStream.connect(cluster.url(0, "/events?user=\(user)"))
            return again != nil
        }
        await again?.close()
    }
}
