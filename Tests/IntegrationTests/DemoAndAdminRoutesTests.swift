import Foundation
import SSEClient
import SSEFanout
import Testing

/// The demo page and its token (`/demo`, `POST /demo/token`), and the admin page and its data
/// (`/admin`, `/admin/api/...`), on two real nodes in demo mode with Redis and RabbitMQ. One test at a
/// time: the node listing counts each node's streams.
@Suite(.serialized) struct DemoAndAdminRoutesTests {
    static let secret = "a-demo-and-admin-test-secret-of-32-bytes"
    static let apiKey = "admin-test-api-key-0123456789"

    static let cluster = Task {
        let cluster = try await TestCluster.start(nodes: 2) { configuration in
            configuration.demo = true
            configuration.auth.disabled = false
            configuration.auth.jwtSecret = secret
            configuration.auth.apiKeys = [apiKey]
        }
        try await cluster.waitReady()
        return cluster
    }

    private static let json = [("Content-Type", "application/json")]
    private static let key = [("X-API-Key", apiKey)]

    private func demoToken(_ body: String, node: Int = 0) async throws -> HTTPResponse {
        let c = try await Self.cluster.value
        return try await HTTPClient().request("POST", c.url(node, "/demo/token"), headers: Self.json, body: Array(body.utf8))
    }

    private func object(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    private func admin(_ path: String, node: Int = 0) async throws -> [String: Any] {
        let c = try await Self.cluster.value
        let answer = try await HTTPClient().request("GET", c.url(node, path), headers: Self.key)
        try #require(answer.status == 200, "\(path): \(answer.status) \(answer.bodyString)")
        #expect(answer.header("Content-Type") == "application/json")
        return try object(answer)
    }

    @Test func thePagesAreServed() async throws {
        let c = try await Self.cluster.value
        for (path, title) in [("/demo", "sse-fanout demo"), ("/admin", "sse-fanout admin")] {
            let page = try await HTTPClient().request("GET", c.url(1, path))
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            #expect(page.bodyString.contains("<title>\(title)</title>"))
            let etag = try #require(page.header("ETag"))
            #expect(try await HTTPClient().request("GET", c.url(1, path), headers: [("If-None-Match", etag)]).status == 304)
        }
    }

    @Test func aDemoTokenIsConfinedToItsTenantAndTheDemoChannels() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("demo")
        let tenant = TestEnvironment.uniqueName("demo")
        let answer = try await demoToken(#"{"user": "\#(user)", "tenant": "\#(tenant)"}"#)
        #expect(answer.status == 200)
        #expect(answer.header("Cache-Control") == "no-store")
        let body = try object(answer)
        let token = try #require(body["token"] as? String)
        #expect(body["tenant"] as? String == tenant)
        let expiresAt = try #require(body["expiresAt"] as? Int64)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(expiresAt > now + 3_500_000 && expiresAt <= now + 3_601_000)

        let bearer = [("Authorization", "Bearer \(token)")]
        let (stream, info) = try await c.subscribe(1, "channel=demo-room", headers: bearer)
        #expect(info.user == user)
        #expect(try await HTTPClient().request("GET", c.url(1, "/events?channel=news"), headers: bearer).status == 403)

        let chat = try await HTTPClient().request(
            "POST", c.url(0, "/publish"), headers: Self.json + bearer,
            body: Array(#"{"target": {"type": "channel", "id": "demo-room"}, "event": "chat", "data": {"text": "hi"}}"#.utf8))
        #expect(chat.status == 202)
        #expect(try await stream.nextOwn()?.event == "chat")
        let elsewhere = try await HTTPClient().request(
            "POST", c.url(0, "/publish"), headers: Self.json + bearer,
            body: Array(#"{"target": {"type": "channel", "id": "news"}, "data": "no"}"#.utf8))
        #expect(elsewhere.status == 403)
        let otherTenant = try await HTTPClient().request(
            "POST", c.url(0, "/publish"), headers: Self.json + bearer,
            body: Array(#"{"target": {"type": "user", "id": "x", "tenant": "another"}, "data": "no"}"#.utf8))
        #expect(otherTenant.status == 403)

        let presence = try await HTTPClient().request("GET", c.url(0, "/presence/users?tenant=\(tenant)"), headers: bearer)
        #expect(presence.status == 200)
        #expect(presence.bodyString.contains(user))
        #expect(try await HTTPClient().request("GET", c.url(0, "/presence/users?tenant=another"), headers: bearer).status == 403)
        await stream.close()
    }

    /// The nodes have a CORS list (`https://app.example`); the pages they serve call them from their own origin.
    @Test func thePagesMayCallTheirOwnNodeDespiteACORSList() async throws {
        let c = try await Self.cluster.value
        let own = "http://127.0.0.1:\(c.nodes[0].port)"
        let headers = Self.json + [("Origin", own), ("Host", "127.0.0.1:\(c.nodes[0].port)")]
        let answer = try await HTTPClient().request("POST", c.url(0, "/demo/token"), headers: headers, body: Array(#"{"user": "a"}"#.utf8))
        #expect(answer.status == 200)
        let foreign = try await HTTPClient().request(
            "POST", c.url(0, "/demo/token"), headers: Self.json + [("Origin", "http://127.0.0.1:1")], body: Array(#"{"user": "a"}"#.utf8))
        #expect(foreign.status == 403)
    }

    @Test func aDemoTokenRequestIsChecked() async throws {
        let c = try await Self.cluster.value
        #expect(try await demoToken(#"{"tenant": "demo"}"#).status == 400)
        #expect(try await demoToken("not json").status == 400)
        #expect(try await demoToken(#"{"user": "a", "tenant": "no spaces"}"#).status == 400)
        let channels = try await demoToken(#"{"user": "a", "channels": ["news"]}"#)
        #expect(channels.status == 400)
        #expect(try object(channels)["error"] as? String == "invalid_channels")
        let form = try await HTTPClient().request(
            "POST", c.url(0, "/demo/token"), headers: [("Content-Type", "text/plain")], body: Array(#"{"user": "a"}"#.utf8))
        #expect(form.status == 415)
        // The default tenant of the demo; a tenant that is no demo tenant is refused.
        #expect(try object(try await demoToken(#"{"user": "a"}"#))["tenant"] as? String == "demo")
        #expect(try object(try await demoToken(#"{"user": "a", "tenant": "acme"}"#))["error"] as? String == "demo_tenant_only")
    }

    @Test func theAdminRoutesTakeAnAPIKey() async throws {
        let c = try await Self.cluster.value
        let token = try #require(try object(try await demoToken(#"{"user": "nosy"}"#))["token"] as? String)
        for path in ["/admin/api/nodes", "/admin/api/queues", "/admin/api/channels"] {
            let none = try await HTTPClient().request("GET", c.url(0, path))
            #expect(none.status == 401)
            // A token that may publish is not an operator.
            let publisher = try await HTTPClient().request("GET", c.url(0, path), headers: [("Authorization", "Bearer \(token)")])
            #expect(publisher.status == 403)
            #expect(try object(publisher)["error"] as? String == "admin_not_allowed")
        }
        #expect(try await HTTPClient().request("GET", c.url(0, "/admin/api/other"), headers: Self.key).status == 404)
        #expect(try await HTTPClient().request("POST", c.url(0, "/admin/api/nodes"), headers: Self.key).status == 405)
    }

    @Test func nodesAreListedWithTheirStreams() async throws {
        let c = try await Self.cluster.value
        let token = try #require(try object(try await demoToken(#"{"user": "counted"}"#))["token"] as? String)
        let (stream, _) = try await c.subscribe(1, "", headers: [("Authorization", "Bearer \(token)")])
        var mine: [[String: Any]] = []
        try await TestEnvironment.eventually("node 1 lists its stream") {
            let nodes = try #require(try await admin("/admin/api/nodes")["nodes"] as? [[String: Any]])
            mine = c.nodes.compactMap { node in nodes.first { $0["nodeId"] as? String == node.nodeID } }
            return mine.count == 2 && mine[0]["connections"] as? Int == 0 && mine[1]["connections"] as? Int == 1
        }
        for (index, entry) in mine.enumerated() {
            #expect(entry["bootId"] as? String == c.nodes[index].bootID)
            #expect(entry["host"] as? String == "127.0.0.1")
            let lease = try #require(entry["leaseExpiresAt"] as? Int64)
            #expect(lease > Int64(Date().timeIntervalSince1970 * 1000))
            #expect(entry["startedAt"] is Int64)
        }
        await stream.close()
    }

    /// Node `index`'s totals as its record holds them (nil until its first renewal with metrics on).
    private func totals(of index: Int) async throws -> [String: Any]? {
        let c = try await Self.cluster.value
        let nodes = try #require(try await admin("/admin/api/nodes")["nodes"] as? [[String: Any]])
        return nodes.first { $0["nodeId"] as? String == c.nodes[index].nodeID }?["totals"] as? [String: Any]
    }

    @Test func eachNodeWritesItsTotalsIntoItsRecordForTheClusterWideCharts() async throws {
        let c = try await Self.cluster.value
        let token = try #require(try object(try await demoToken(#"{"user": "totals-reader"}"#))["token"] as? String)
        let (stream, _) = try await c.subscribe(1, "", headers: [("Authorization", "Bearer \(token)")])
        var published0 = 0, delivered1 = 0
        try await TestEnvironment.eventually("both nodes have written totals") {
            guard let zero = try await totals(of: 0), let one = try await totals(of: 1) else { return false }
            published0 = zero["published"] as? Int ?? 0
            delivered1 = one["delivered"] as? Int ?? 0
            return true
        }
        // Published through node 0, delivered by node 1 (where the stream is).
        let body = #"{"target":{"type":"user","id":"totals-reader","tenant":"demo"},"data":"counted"}"#
        let answer = try await HTTPClient().request("POST", c.url(0, "/publish"), headers: Self.key + Self.json, body: Array(body.utf8))
        #expect(answer.status == 202, "\(answer.bodyString)")
        // Not `next()`: another suite's broadcast reaches every stream of the process, this one too.
        let event = try await stream.nextOwn()
        #expect(event?.data == "counted")
        try await TestEnvironment.eventually("the next renewals carry the publish and the delivery") {
            guard let zero = try await totals(of: 0), let one = try await totals(of: 1) else { return false }
            return zero["published"] as? Int ?? 0 > published0 && one["delivered"] as? Int ?? 0 > delivered1
                && one["latencyCount"] as? Int ?? 0 > 0 && one["at"] as? Int64 ?? 0 > 0
        }
        await stream.close()
    }

    @Test func queuesShowTheirDepthsAndTheDemoUploadsLand() async throws {
        let c = try await Self.cluster.value
        let token = try #require(try object(try await demoToken(#"{"user": "uploader"}"#))["token"] as? String)
        let form = MultipartForm(parts: [.file("file", filename: "a.txt", contentType: "text/plain", data: Array("hello".utf8))])
        let upload = try await HTTPClient().request(
            "POST", c.url(0, "/upload/demo/files"), headers: [("Content-Type", form.contentType), ("Authorization", "Bearer \(token)")],
            body: form.body)
        #expect(upload.status == 202, "\(upload.bodyString)")

        // Nodes take up the shared queues within a moment of being ready.
        var byName: [String: [String: Any]] = [:]
        try await TestEnvironment.eventually("both nodes consume sse.ingress") {
            let queues = try #require(try await admin("/admin/api/queues")["queues"] as? [[String: Any]])
            byName = Dictionary(queues.map { ($0["queue"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
            return byName["sse.ingress"]?["consumers"] as? Int ?? 0 >= 2
        }
        for name in ["sse.ingress", "sse.dead-letter", "sse.poison", "sse.demo.uploads"] {
            #expect(byName[name]?["messages"] is Int, "\(name)")
        }
        #expect((byName["sse.demo.uploads"]?["messages"] as? Int ?? 0) >= 1)
        for node in c.nodes {
            let queue = try #require(byName["sse.node.v2.\(node.nodeID)"])
            #expect(queue["consumers"] as? Int == 1)
        }
    }

    @Test func channelsArePagedAndSearchedPerTenant() async throws {
        let c = try await Self.cluster.value
        let tenant = TestEnvironment.uniqueName("demo-chan")
        var streams: [SSEStream] = []
        for (user, channel) in [("a", "demo-alpha"), ("b", "demo-beta"), ("c", "demo-beta"), ("d", "demo-gamma")] {
            let token = try #require(
                try object(try await demoToken(#"{"user": "\#(user)", "tenant": "\#(tenant)", "channels": ["\#(channel)"]}"#))["token"] as? String)
            streams.append(try await c.subscribe(streams.count % 2, "channel=\(channel)", headers: [("Authorization", "Bearer \(token)")]).0)
        }
        var found: [String: Int] = [:]
        var cursor: String?
        var pages = 0
        repeat {
            let query = "tenant=\(tenant)&limit=1" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await admin("/admin/api/channels?\(query)")
            for item in try #require(page["channels"] as? [[String: Any]]) {
                found[item["channel"] as? String ?? ""] = item["users"] as? Int
            }
            cursor = page["cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10_000
        #expect(found == ["demo-alpha": 1, "demo-beta": 2, "demo-gamma": 1])

        var searched: Set<String> = []
        cursor = nil
        repeat {
            let page = try await admin("/admin/api/channels?tenant=\(tenant)&prefix=demo-b&limit=1000" + (cursor.map { "&cursor=\($0)" } ?? ""))
            for item in try #require(page["channels"] as? [[String: Any]]) { searched.insert(item["channel"] as? String ?? "") }
            cursor = page["cursor"] as? String
        } while cursor != nil
        #expect(searched == ["demo-beta"])

        let bad = try await HTTPClient().request("GET", c.url(0, "/admin/api/channels?limit=0"), headers: Self.key)
        #expect(bad.status == 400)
        #expect(try object(bad)["error"] as? String == "invalid_limit")
        for stream in streams { await stream.close() }
    }
}

/// Without demo mode there is no demo page and no token for anyone; the admin page is still there.
@Suite struct DemoModeOffTests {
    static let cluster = Task {
        try await TestCluster.start(nodes: 1, amqpURL: "amqp://guest:guest@127.0.0.1:1/%2f", redisURL: "redis://127.0.0.1:1/0") {
            $0.standalone = true
        }
    }

    @Test func demoRoutesAreNotFound() async throws {
        let c = try await Self.cluster.value
        #expect(try await HTTPClient().request("GET", c.url(0, "/demo")).status == 404)
        let token = try await HTTPClient().request(
            "POST", c.url(0, "/demo/token"), headers: [("Content-Type", "application/json")], body: Array(#"{"user": "a"}"#.utf8))
        #expect(token.status == 404)
        #expect(try await HTTPClient().request("GET", c.url(0, "/admin")).status == 200)
    }

    @Test func aStandaloneNodeHasNoQueuesButListsItself() async throws {
        let c = try await Self.cluster.value
        let queues = try await HTTPClient().request("GET", c.url(0, "/admin/api/queues"))
        #expect(queues.status == 200)
        #expect(queues.bodyString == #"{"queues":[]}"#)
        let nodes = try await HTTPClient().request("GET", c.url(0, "/admin/api/nodes"))
        #expect(nodes.bodyString.contains(#""nodeId":"\#(c.nodes[0].nodeID)""#))
    }
}
