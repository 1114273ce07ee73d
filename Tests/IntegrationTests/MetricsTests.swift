import Foundation
import SSEClient
import SSEFanout
import Testing

/// `GET /metrics` on real nodes, Redis and RabbitMQ: what a stream, a publish and a delivery count,
/// and who may read them.
@Suite struct MetricsTests {
    static let secret = "a-metrics-test-secret-of-32-bytes-or-more"
    static let apiKey = "metrics-test-api-key-0123456789"

    static let cluster = Task { try await TestCluster.startAuthenticated(nodes: 2, secret: secret, apiKeys: [apiKey]) }

    static let minter = Task { try await TestCluster.minter(secret: secret) }

    /// Every sample of `node`'s exposition, by its name with labels (`name{label="value"}`).
    private func scrape(_ node: Int) async throws -> [String: Double] {
        let c = try await Self.cluster.value
        let answer = try await HTTPClient().request("GET", c.url(node, "/metrics"), headers: [("X-API-Key", Self.apiKey)])
        try #require(answer.status == 200)
        #expect(answer.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        var samples: [String: Double] = [:]
        for line in answer.bodyString.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test func aStreamAPublishAndADeliveryAreCounted() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("metrics")
        let token = try await Self.minter.value.mint(user: user, ttl: .seconds(600))
        let before0 = try await scrape(0)
        let before1 = try await scrape(1)
        let (stream, _) = try await c.subscribe(1, "", headers: [("Authorization", "Bearer \(token)")])
        let publish = try await HTTPClient().request(
            "POST", c.url(0, "/publish"), headers: [("Content-Type", "application/json"), ("X-API-Key", Self.apiKey)],
            body: Array(#"{"target":{"type":"user","id":"\#(user)"},"data":"counted"}"#.utf8))
        #expect(publish.status == 202)
        #expect(try await stream.nextOwn()?.data == "counted")

        let after0 = try await scrape(0)
        let published = #"sse_events_published_total{target="user"}"#
        #expect((after0[published] ?? 0) - (before0[published] ?? 0) >= 1)
        #expect(after0["sse_ready"] == 1)
        #expect((after0["sse_amqp_confirm_seconds_count"] ?? 0) > (before0["sse_amqp_confirm_seconds_count"] ?? 0))
        #expect((after0["sse_redis_command_seconds_count"] ?? 0) > (before0["sse_redis_command_seconds_count"] ?? 0))

        var after1 = try await scrape(1)
        #expect(after1["sse_connections"] == 1)
        #expect((after1["sse_connections_opened_total"] ?? 0) - (before1["sse_connections_opened_total"] ?? 0) == 1)
        // At least: other suites' broadcasts (one process) reach this stream too.
        #expect((after1["sse_deliveries_total"] ?? 0) - (before1["sse_deliveries_total"] ?? 0) >= 1)
        #expect((after1["sse_delivery_latency_seconds_count"] ?? 0) - (before1["sse_delivery_latency_seconds_count"] ?? 0) >= 1)
        #expect((after1["sse_delivery_latency_seconds_sum"] ?? 0) > (before1["sse_delivery_latency_seconds_sum"] ?? 0))

        await stream.close()
        let closed = #"sse_connections_closed_total{reason="client_closed"}"#
        try await TestEnvironment.eventually("the close is counted") {
            after1 = try await scrape(1)
            return (after1[closed] ?? 0) - (before1[closed] ?? 0) == 1 && after1["sse_connections"] == 0
        }
    }

    /// The Grafana dashboard of the compose cluster asks only for series a node exports.
    @Test func theDashboardAsksOnlyForExportedMetrics() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dashboard = try String(contentsOf: root.appendingPathComponent("docker/grafana/dashboards/sse-fanout.json"), encoding: .utf8)
        let exported = Set(try await scrape(0).keys.map { String($0.prefix { $0 != "{" }) })
        let asked = Set(dashboard.matches(of: /sse_[a-z_]+/).map { String($0.output) })
        #expect(!asked.isEmpty)
        for name in asked.sorted() {
            #expect(exported.contains(name), "the dashboard asks for \(name), which no node exports")
        }
    }

    @Test func metricsTakeAnAPIKey() async throws {
        let c = try await Self.cluster.value
        #expect(try await HTTPClient().request("GET", c.url(0, "/metrics")).status == 401)
        let token = try await Self.minter.value.mint(user: "someone", publish: ["*"], ttl: .seconds(600))
        let withToken = try await HTTPClient().request("GET", c.url(0, "/metrics"), headers: [("Authorization", "Bearer \(token)")])
        #expect(withToken.status == 403)
        #expect(withToken.bodyString.contains("metrics_not_allowed"))
    }
}
