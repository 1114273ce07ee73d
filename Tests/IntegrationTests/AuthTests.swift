import Crypto
import Foundation
import Logging
import RabbitMQ
import SSEClient
import SSEFanout
import Testing

/// Identity on real nodes, Redis and RabbitMQ: who may subscribe, who may publish to whom, and what
/// a producer on RabbitMQ may not forge.
@Suite(.serialized) struct AuthTests {
    static let secret = "an-integration-test-secret-of-32-bytes-or-more"
    static let apiKey = "test-api-key-0123456789"

    static let cluster = Task {
        try await TestCluster.startAuthenticated(nodes: 2, secret: secret, apiKeys: [apiKey]) { $0.auth.maxTokenLifetime = .seconds(7200) }
    }

    static let minter = Task { try await TestCluster.minter(secret: secret, maxTokenLifetime: .seconds(7200)) }

    static func token(
        user: String, tenant: String? = nil, sid: String? = nil, channels: [String] = [], publish: [String] = [], ttl: Duration = .seconds(600)
    ) async throws -> String {
        try await minter.value.mint(user: user, tenant: tenant, sid: sid, channels: channels, publish: publish, ttl: ttl)
    }

    /// A token signed by hand with `secret` over `claims` (JSON), with the header `header`.
    static func handMade(header: String, claims: String, key: String = secret) -> String {
        let head = Data(header.utf8).base64URL
        let body = Data(claims.utf8).base64URL
        guard !key.isEmpty else { return "\(head).\(body)." }
        let signature = Array(HMAC<SHA256>.authenticationCode(for: Array("\(head).\(body)".utf8), using: SymmetricKey(data: Array(key.utf8))))
        return "\(head).\(body).\(Data(signature).base64URL)"
    }

    private func refusal(_ node: Int, _ query: String, headers: [(String, String)] = []) async throws -> (Int, String) {
        let c = try await Self.cluster.value
        do {
            let stream = try await SSEStream.connect(c.url(node, "/events?\(query)"), headers: headers)
            await stream.close()
            return (200, "")
        } catch SSEClientError.unexpectedStatus(let status, let body) {
            let error = try JSONDecoder().decode(ErrorAnswer.self, from: Data(body.utf8))
            return (status, error.error)
        }
    }

    private func post(_ node: Int, _ path: String, _ json: String, headers: [(String, String)]) async throws -> HTTPResponse {
        let c = try await Self.cluster.value
        return try await HTTPClient().request("POST", c.url(node, path), headers: headers, body: Array(json.utf8))
    }

    private func publish(_ node: Int, _ json: String, key: String = apiKey) async throws -> HTTPResponse {
        try await post(node, "/publish", json, headers: [("Content-Type", "application/json"), ("X-API-Key", key)])
    }

    // MARK: - Subscribers

    @Test func streamsWithoutAGoodTokenAreRefused() async throws {
        let now = Int(Date().timeIntervalSince1970)
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        #expect(try await refusal(0, "") == (401, "missing_token"))
        let forged = Self.handMade(header: header, claims: #"{"sub":"mallory","exp":\#(now + 60)}"#, key: "another-secret-that-is-long-enough-to-use")
        #expect(try await refusal(0, "token=\(forged)") == (401, "invalid_signature"))
        let expired = Self.handMade(header: header, claims: #"{"sub":"alice","exp":\#(now - 60)}"#)
        #expect(try await refusal(0, "", headers: [("Authorization", "Bearer \(expired)")]) == (401, "token_expired"))
        let unsigned = Self.handMade(header: #"{"alg":"none","typ":"JWT"}"#, claims: #"{"sub":"alice","exp":\#(now + 60)}"#, key: "")
        #expect(try await refusal(0, "token=\(unsigned)") == (401, "unsecured_token"))
        let noExpiry = Self.handMade(header: header, claims: #"{"sub":"alice"}"#)
        #expect(try await refusal(0, "token=\(noExpiry)") == (401, "missing_expiry"))
        let wrongAlgorithm = Self.handMade(header: #"{"alg":"RS256","typ":"JWT"}"#, claims: #"{"sub":"alice","exp":\#(now + 60)}"#)
        #expect(try await refusal(0, "token=\(wrongAlgorithm)").0 == 401)
        #expect(try await refusal(0, "token=not-a-token") == (401, "malformed_token"))
    }

    @Test func theUserComesFromTheTokenAloneAndChannelsFromItsClaims() async throws {
        let token = try await Self.token(user: "alice", channels: ["news", "sport-*"])
        #expect(try await refusal(0, "user=bob&token=\(token)") == (400, "identity_from_token"))
        #expect(try await refusal(0, "channel=secret&token=\(token)") == (403, "channel_not_allowed"))
        #expect(try await refusal(0, "channel=sport-eu&token=\(token)").0 == 200)
    }

    @Test func aTokenInTheHeaderACookieOrTheQueryOpensAStreamThatSaysWhoItIs() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let token = try await Self.token(user: user, tenant: "acme", sid: "s-1", channels: ["news"])
        for (query, headers) in [
            ("channel=news", [("Authorization", "Bearer \(token)")]), ("channel=news", [("Cookie", "theme=dark; sse_token=\(token)")]),
            ("channel=news&token=\(token)", []),
        ] {
            let stream = try await SSEStream.connect(c.url(1, "/events?\(query)"), headers: headers)
            let connected = try #require(try await stream.next())
            let info = try #require(try JSONSerialization.jsonObject(with: Data(connected.data.utf8)) as? [String: Any])
            #expect(info["user"] as? String == user)
            #expect(info["tenant"] as? String == "acme")
            #expect(info["session"] as? String == "s-1")
            #expect((info["expiresAt"] as? NSNumber)?.int64Value ?? 0 > Int64(Date().timeIntervalSince1970 * 1000))
            #expect(abs(((info["serverTime"] as? NSNumber)?.doubleValue ?? 0) / 1000 - Date().timeIntervalSince1970) < 60)
            await stream.close()
        }
    }

    @Test func aStreamIsToldItsTokenExpiredAndClosed() async throws {
        let c = try await Self.cluster.value
        let token = try await Self.token(user: TestEnvironment.uniqueName("u"), ttl: .seconds(2))
        let stream = try await SSEStream.connect(c.url(0, "/events?token=\(token)"))
        #expect(try await stream.next()?.event == "connected")
        let last = try await stream.nextOwn()
        #expect(last?.event == "expired")
        try await stream.waitClosed(timeout: .seconds(5))
    }

    // MARK: - Publishers

    @Test func publishingNeedsACredentialThatCoversTheTarget() async throws {
        let body = #"{"target":{"type":"user","id":"alice"},"data":"x"}"#
        #expect(try await post(0, "/publish", body, headers: [("Content-Type", "application/json")]).status == 401)
        #expect(try await publish(0, body, key: "wrong-key").status == 401)
        #expect(try await publish(0, body).status == 202)
        let bearer = try await post(0, "/publish", body, headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(Self.apiKey)")])
        #expect(bearer.status == 202)
        let subscriberOnly = try await Self.token(user: "alice")
        let noGrant = try await post(0, "/publish", body, headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(subscriberOnly)")])
        #expect(noGrant.status == 403)
        let newsOnly = try await Self.token(user: "backend", publish: ["channel:news"])
        let headers = [("Content-Type", "application/json"), ("Authorization", "Bearer \(newsOnly)")]
        #expect(try await post(0, "/publish", body, headers: headers).status == 403)
        #expect(try await post(0, "/publish", #"{"target":{"type":"channel","id":"news"},"data":"x"}"#, headers: headers).status == 202)
    }

    @Test func aCrossSitePlainTextPostIsRefusedAndNothingIsDelivered() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(0, "token=\(try await Self.token(user: user))")
        defer { Task { await stream.close() } }
        let body = #"{"target":{"type":"user","id":"\#(user)"},"data":"forged"}"#
        // A page elsewhere can send this without a preflight; with the origin on no list it is refused.
        let crossSite = try await post(1, "/publish", body, headers: [("Content-Type", "text/plain"), ("Origin", "https://evil.example")])
        #expect(crossSite.status == 403)
        let plain = try await post(1, "/publish", body, headers: [("Content-Type", "text/plain"), ("X-API-Key", Self.apiKey)])
        #expect(plain.status == 415)
        #expect(try await publish(1, #"{"target":{"type":"user","id":"\#(user)"},"data":"real"}"#).status == 202)
        #expect(try await stream.nextOwn()?.data == "real")
    }

    @Test func tenantsAreApartForSubscribersAndForConfinedPublishers() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (inA, _) = try await c.subscribe(0, "token=\(try await Self.token(user: user, tenant: "a"))")
        let (inB, _) = try await c.subscribe(1, "token=\(try await Self.token(user: user, tenant: "b"))")
        defer { Task { await inA.close(); await inB.close() } }
        #expect(try await publish(1, #"{"target":{"type":"user","id":"\#(user)","tenant":"a"},"data":"for a"}"#).status == 202)
        // A publisher confined to tenant b: a target without a tenant is in b, one in a is refused.
        let confined = try await Self.token(user: "backend-b", tenant: "b", publish: ["user:*"])
        let headers = [("Content-Type", "application/json"), ("Authorization", "Bearer \(confined)")]
        #expect(try await post(0, "/publish", #"{"target":{"type":"user","id":"\#(user)"},"data":"for b"}"#, headers: headers).status == 202)
        #expect(try await post(0, "/publish", #"{"target":{"type":"user","id":"\#(user)","tenant":"a"},"data":"x"}"#, headers: headers).status == 403)
        #expect(try await post(0, "/publish", #"{"target":{"type":"broadcast"},"data":"x"}"#, headers: headers).status == 403)
        #expect(try await inA.nextOwn()?.data == "for a")
        #expect(try await inB.nextOwn()?.data == "for b")
        // Neither saw the other's: a marker sent to both after arrives next.
        #expect(try await publish(0, #"{"targets":[{"type":"tenant","id":"a"},{"type":"tenant","id":"b"}],"data":"marker"}"#).status == 202)
        #expect(try await inA.nextOwn()?.data == "marker")
        #expect(try await inB.nextOwn()?.data == "marker")
    }

    @Test func everyTargetKindReachesItsStreamOnAnotherNode() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let tenant = TestEnvironment.uniqueName("t")
        let channel = TestEnvironment.uniqueName("ch")
        let token = try await Self.token(user: user, tenant: tenant, sid: "sess", channels: [channel])
        let (stream, info) = try await c.subscribe(1, "channel=\(channel)&clientId=phone&token=\(token)")
        defer { Task { await stream.close() } }
        let targets = [
            #"{"type":"connection","id":"\#(info.connectionId)"}"#, #"{"type":"user","id":"\#(user)","tenant":"\#(tenant)"}"#,
            #"{"type":"session","id":"sess","tenant":"\#(tenant)"}"#, #"{"type":"client","user":"\#(user)","id":"phone","tenant":"\#(tenant)"}"#,
            #"{"type":"tenant","id":"\#(tenant)"}"#, #"{"type":"channel","id":"\#(channel)","tenant":"\#(tenant)"}"#,
        ]
        for (index, target) in targets.enumerated() {
            let answer = try await publish(0, #"{"target":\#(target),"data":"kind \#(index)"}"#)
            #expect(answer.status == 202)
            #expect(answer.bodyString.contains(#""nodes":1"#))
            #expect(try await stream.nextOwn()?.data == "kind \(index)")
        }
        // One event to several targets that all match the stream arrives once.
        #expect(try await publish(0, #"{"targets":[\#(targets.joined(separator: ","))],"data":"once"}"#).status == 202)
        #expect(try await publish(0, #"{"target":\#(targets[0]),"data":"after"}"#).status == 202)
        #expect(try await stream.nextOwn()?.data == "once")
        #expect(try await stream.nextOwn()?.data == "after")
        // The same names in the default tenant are someone else.
        #expect(try await publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"x"}"#).bodyString.contains(#""nodes":0"#))
    }

    // MARK: - Presence

    @Test func presenceListsAStreamOnAnotherNodeForPublishersOnly() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let tenant = TestEnvironment.uniqueName("t")
        let (stream, info) = try await c.subscribe(1, "channel=news&clientId=tab-1&token=\(try await Self.token(user: user, tenant: tenant, sid: "s9", channels: ["news"]))")
        let get = { (path: String, headers: [(String, String)]) in try await HTTPClient().request("GET", c.url(0, path), headers: headers) }
        let key = [("X-API-Key", Self.apiKey)]
        let one = try await get("/presence/users/\(user)?tenant=\(tenant)", key)
        #expect(one.status == 200)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(one.body)) as? [String: Any])
        #expect(answer["online"] as? Bool == true)
        let connections = try #require(answer["connections"] as? [[String: Any]])
        #expect(connections.count == 1)
        #expect(connections.first?["connectionId"] as? String == info.connectionId)
        #expect(connections.first?["node"] as? String == c.nodes[1].nodeID)
        #expect(connections.first?["session"] as? String == "s9")
        #expect(connections.first?["clientId"] as? String == "tab-1")
        let listed = try await get("/presence/connections?tenant=\(tenant)&channel=news", key)
        #expect(listed.bodyString.contains(info.connectionId))
        let users = try await get("/presence/users?tenant=\(tenant)", key)
        #expect(users.bodyString.contains(#""user":"\#(user)""#))
        // No credential, a subscriber's token, or a publisher confined to another tenant: refused.
        #expect(try await get("/presence/users?tenant=\(tenant)", []).status == 401)
        let subscriber = try await Self.token(user: user, tenant: tenant)
        #expect(try await get("/presence/users?tenant=\(tenant)", [("Authorization", "Bearer \(subscriber)")]).status == 403)
        let elsewhere = try await Self.token(user: "ops", tenant: "other", publish: ["*"])
        #expect(try await get("/presence/users?tenant=\(tenant)", [("Authorization", "Bearer \(elsewhere)")]).status == 403)
        await stream.close()
        try await TestEnvironment.eventually("offline") {
            try await get("/presence/users/\(user)?tenant=\(tenant)", key).bodyString.contains(#""online":false"#)
        }
    }

    @Test func aStreamResumesWhatWasSentToItsSessionDeviceAndTenantWhileItWasAway() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let tenant = TestEnvironment.uniqueName("t")
        let token = try await Self.token(user: user, tenant: tenant, sid: "sess")
        let (first, _) = try await c.subscribe(0, "clientId=pad&token=\(token)")
        let lastID = try #require(try await {
            #expect(try await publish(1, #"{"target":{"type":"user","id":"\#(user)","tenant":"\#(tenant)"},"data":"seen"}"#).status == 202)
            return try await first.nextOwn()?.id
        }())
        await first.close()
        for (index, target) in [
            #"{"type":"session","id":"sess","tenant":"\#(tenant)"}"#, #"{"type":"client","user":"\#(user)","id":"pad","tenant":"\#(tenant)"}"#,
            #"{"type":"tenant","id":"\#(tenant)"}"#,
        ].enumerated() {
            let answer = try await publish(1, #"{"target":\#(target),"data":"missed \#(index)"}"#)
            #expect(answer.bodyString.contains(#""stored":true"#))
        }
        let (back, _) = try await c.subscribe(1, "clientId=pad&token=\(token)", headers: [("Last-Event-ID", lastID)])
        defer { Task { await back.close() } }
        for index in 0..<3 { #expect(try await back.nextOwn()?.data == "missed \(index)") }
    }

    // MARK: - Kick

    @Test func aKickedSessionIsToldWhyClosedAndStaysOut() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (first, second) = (TestEnvironment.uniqueName("login"), TestEnvironment.uniqueName("login"))
        let token = try await Self.token(user: user, sid: first)
        let other = try await Self.token(user: user, sid: second)
        let (kicked, _) = try await c.subscribe(1, "token=\(token)")
        let (kept, _) = try await c.subscribe(0, "token=\(other)")
        defer { Task { await kept.close() } }
        let answer = try await post(
            0, "/disconnect", #"{"target":{"type":"session","id":"\#(first)"},"reason":"logged out","reconnect":false}"#,
            headers: [("Content-Type", "application/json"), ("X-API-Key", Self.apiKey)])
        #expect(answer.status == 202)
        #expect(answer.bodyString.contains(#""nodes":1"#))
        let farewell = try #require(try await kicked.nextOwn())
        #expect(farewell.event == "disconnect")
        #expect(farewell.data == #"{"reason":"logged out","reconnect":false}"#)
        try await kicked.waitClosed()
        // Barred on every node, not only the one that held it; the other login is untouched.
        #expect(try await refusal(0, "token=\(token)") == (403, "kicked"))
        #expect(try await refusal(1, "token=\(token)") == (403, "kicked"))
        #expect(try await publish(1, #"{"target":{"type":"session","id":"\#(second)"},"data":"still here"}"#).status == 202)
        #expect(try await kept.nextOwn()?.data == "still here")
        let unauthorized = try await post(
            0, "/disconnect", #"{"target":{"type":"user","id":"\#(user)"}}"#, headers: [("Content-Type", "application/json")])
        #expect(unauthorized.status == 401)
    }

    // MARK: - Producers on RabbitMQ

    @Test func fieldsOnlyNodesSetAreIgnoredInWhatProducersSend() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(0, "token=\(try await Self.token(user: user))")
        defer { Task { await stream.close() } }
        let producer = try await Producer.connect()
        defer { Task { await producer.shutdown() } }
        // A position far in the future would make the stream drop every later event of the user.
        let future = "99999999999999-0"
        let forged = #"{"target":{"type":"user","id":"\#(user)"},"data":"forged","position":"\#(future)","hops":9}"#
        for (exchange, key) in [(BrokerTopology.ingressExchange, ""), (BrokerTopology.directExchange, c.nodes[0].nodeID)] {
            #expect(try await producer.publish(exchange: exchange, routingKey: key, body: Array(forged.utf8), properties: AMQPMessageProperties(contentType: "application/json")) == .confirmed)
            let event = try #require(try await stream.nextOwn())
            #expect(event.data == "forged")
            let position = try #require(event.id.flatMap(ResumeToken.init(text:))?.position(of: .user(user)))
            #expect(position < StreamPosition(future)!)
        }
        #expect(try await publish(1, #"{"target":{"type":"user","id":"\#(user)"},"data":"later"}"#).status == 202)
        #expect(try await stream.nextOwn()?.data == "later")
    }

    @Test func aClusteredNodeWithoutAKeyRefusesToStart() async throws {
        var configuration = NodeConfiguration()
        configuration.port = 0
        configuration.amqpURL = TestEnvironment.amqpURL
        configuration.redisURL = TestEnvironment.redisURL
        await #expect(throws: ConfigurationError.self) {
            _ = try await Node.make(configuration: configuration, logger: Logger(label: "test"), eventLoopGroup: c().group)
        }
    }

    private func c() async throws -> TestCluster { try await Self.cluster.value }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Tokens and keys never reach a log line, at any level.
@Suite struct CredentialLoggingTests {
    @Test func noTokenOrKeyIsLoggedEvenAtTrace() async throws {
        let lines = CapturingLogHandler.Lines()
        let logger = Logger(label: "test-node") { _ in CapturingLogHandler(lines: lines) }
        let cluster = try await TestCluster.start(nodes: 1, logger: logger) { configuration in
            configuration.auth.disabled = false
            configuration.auth.jwtSecret = AuthTests.secret
            configuration.auth.apiKeys = [AuthTests.apiKey]
        }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let token = try await AuthTests.token(user: TestEnvironment.uniqueName("u"), channels: ["news"])
        let (stream, _) = try await cluster.subscribe(0, "channel=news&token=\(token)")
        await stream.close()
        _ = try? await SSEStream.connect(cluster.url(0, "/events?channel=secret&token=\(token)"))
        let forged = token.dropLast(4) + "AAAA"
        _ = try? await SSEStream.connect(cluster.url(0, "/events?token=\(forged)"), headers: [("Authorization", "Bearer \(forged)")])
        // A token behind a `;`, where a proxy or a framework may read it, is still no log line's.
        _ = try? await SSEStream.connect(cluster.url(0, "/events?x=1;token=\(token)"))
        let headers = [("Content-Type", "application/json"), ("X-API-Key", AuthTests.apiKey)]
        _ = try await HTTPClient().request("POST", cluster.url(0, "/publish"), headers: headers, body: Array(#"{"target":{"type":"user","id":"nobody-here"},"data":"x"}"#.utf8))
        _ = try await HTTPClient().request("POST", cluster.url(0, "/publish"), headers: [("X-API-Key", AuthTests.apiKey + "-wrong")], body: Array("{}".utf8))
        let logged = lines.all
        #expect(logged.contains { $0.contains("/events?channel=news&…") })  // the trace and debug lines were written
        let signature = String(token.split(separator: ".").last!)
        #expect(!logged.contains { $0.contains(signature) || $0.contains(String(forged.suffix(12))) })
        #expect(!logged.contains { $0.contains(AuthTests.apiKey) })
        #expect(!logged.contains { $0.contains(AuthTests.secret) })
    }
}
