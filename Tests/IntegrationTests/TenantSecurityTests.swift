import Foundation
import Logging
import SSEClient
import SSEFanout
import Testing

/// What one tenant, one page or one demo node could do to another, on real nodes, Redis and RabbitMQ:
/// ids, grants, cookies, demo tokens and kicks, each confined.
@Suite(.serialized) struct TenantSecurityTests {
    static let secret = "a-tenant-security-test-secret-of-32-bytes"
    static let apiKey = "tenant-security-api-key-0123456789"

    /// A production node (no CORS list: the default) and a demo node signing with the same key.
    static let cluster = Task {
        try await TestCluster.startAuthenticated(nodes: 1, secret: secret, apiKeys: [apiKey]) { configuration in
            configuration.corsOrigins = []
            configuration.kickBar = .seconds(1)
        }
    }

    static let demo = Task { try await TestCluster.startAuthenticated(nodes: 1, secret: secret) { $0.demo = true } }

    static let minter = Task { try await TestCluster.minter(secret: secret) }

    static func token(user: String, tenant: String? = nil, sid: String? = nil, channels: [String] = [], publish: [String] = []) async throws -> String {
        try await minter.value.mint(user: user, tenant: tenant, sid: sid, channels: channels, publish: publish, ttl: .seconds(600))
    }

    private static let json = ("Content-Type", "application/json")

    private func request(_ method: String, _ path: String, _ body: String? = nil, _ headers: [(String, String)]) async throws -> HTTPResponse {
        let c = try await Self.cluster.value
        return try await HTTPClient().request(method, c.url(0, path), headers: headers, body: body.map { Array($0.utf8) } ?? [])
    }

    private func code(_ response: HTTPResponse) -> String? {
        (try? JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body)))?.error
    }

    /// A refused stream's status and error code; (200, "") when it opened.
    private func opening(_ url: String, headers: [(String, String)] = []) async throws -> (Int, String) {
        do {
            let stream = try await SSEStream.connect(url, headers: headers)
            await stream.close()
            return (200, "")
        } catch SSEClientError.unexpectedStatus(let status, let body) {
            return (status, (try? JSONDecoder().decode(ErrorAnswer.self, from: Data(body.utf8)))?.error ?? "")
        }
    }

    // MARK: - Ids

    /// A token of tenant `a` publishing an id first must not swallow tenant `b`'s publication of it.
    @Test func anIdClaimedInOneTenantIsFreeInAnother() async throws {
        let c = try await Self.cluster.value
        let victim = TestEnvironment.uniqueName("bob")
        let id = TestEnvironment.uniqueName("invoice-paid")
        let (stream, _) = try await c.subscribe(0, "token=\(try await Self.token(user: victim, tenant: "b"))")
        defer { Task { await stream.close() } }
        let attacker = try await Self.token(user: "mallory", tenant: "a", publish: ["user:*"])
        let first = try await request(
            "POST", "/publish", #"{"target":{"type":"user","id":"mallory"},"data":"x","id":"\#(id)"}"#, [Self.json, ("Authorization", "Bearer \(attacker)")])
        #expect(first.status == 202)
        let real = try await request(
            "POST", "/publish", #"{"target":{"type":"user","id":"\#(victim)","tenant":"b"},"data":"paid","id":"\#(id)"}"#, [Self.json, ("X-API-Key", Self.apiKey)])
        #expect(real.status == 202)
        #expect(!real.bodyString.contains("duplicate"))
        #expect(try await stream.nextOwn()?.data == "paid")
    }

    // MARK: - Tokens without a tenant

    /// `{"sub": "svc", "publish": ["user:alice"]}` reaches alice in the default tenant only, and reads
    /// no presence but hers.
    @Test func aTokenWithoutATenantIsConfinedToTheDefaultTenant() async throws {
        let c = try await Self.cluster.value
        let alice = TestEnvironment.uniqueName("alice")
        let (inAcme, _) = try await c.subscribe(0, "token=\(try await Self.token(user: alice, tenant: "acme"))")
        defer { Task { await inAcme.close() } }
        let svc = try await Self.token(user: "svc", publish: ["user:\(alice)"])
        let bearer = [Self.json, ("Authorization", "Bearer \(svc)")]
        let publish = try await request("POST", "/publish", #"{"target":{"type":"user","id":"\#(alice)","tenant":"acme"},"data":"x"}"#, bearer)
        #expect(publish.status == 403)
        #expect(code(publish) == "target_not_allowed")
        let kick = try await request("POST", "/disconnect", #"{"target":{"type":"user","id":"\#(alice)","tenant":"acme"}}"#, bearer)
        #expect(kick.status == 403)
        for path in ["/presence/users?tenant=beta", "/presence/connections?tenant=acme", "/presence/users/\(alice)?tenant=acme", "/presence/users"] {
            #expect(try await request("GET", path, nil, bearer).status == 403, "\(path)")
        }
        // In the default tenant its grant holds, and its own target's presence is readable.
        #expect(try await request("POST", "/publish", #"{"target":{"type":"user","id":"\#(alice)"},"data":"x"}"#, bearer).status == 202)
        #expect(try await request("GET", "/presence/users/\(alice)", nil, bearer).status == 200)
        // The acme stream got nothing: the next event it sees is the API key's.
        #expect(try await request("POST", "/publish", #"{"target":{"type":"user","id":"\#(alice)","tenant":"acme"},"data":"real"}"#, [Self.json, ("X-API-Key", Self.apiKey)]).status == 202)
        #expect(try await inAcme.nextOwn()?.data == "real")
    }

    // MARK: - The cookie

    /// A plain form on any site posts `multipart/form-data` without a preflight, and the browser adds
    /// the cookie: such a request is refused, whatever the CORS setting.
    @Test func theTokenCookieIsRefusedFromAnotherSite() async throws {
        let c = try await Self.cluster.value
        let alice = TestEnvironment.uniqueName("alice")
        let cookie = ("Cookie", "sse_token=\(try await Self.token(user: alice))")
        let form = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n"
        let multipart = ("Content-Type", "multipart/form-data; boundary=XyZ")
        let crossSite = try await request("POST", "/upload/demo/files", form, [multipart, cookie, ("Origin", "https://evil.example")])
        #expect(crossSite.status == 403)
        #expect(code(crossSite) == "cross_origin")
        let byReferer = try await request("POST", "/send/demo/chat", #"{"text":"hi"}"#, [Self.json, cookie, ("Referer", "https://evil.example/page")])
        #expect(byReferer.status == 403)
        #expect(try await opening(c.url(0, "/events"), headers: [cookie, ("Origin", "https://evil.example")]) == (403, "cross_origin"))
        // The node's own pages, and clients that are no page, keep using it.
        let host = "127.0.0.1:\(c.nodes[0].port)"
        let own = try await request("POST", "/upload/demo/files", form, [multipart, cookie, ("Origin", "http://\(host)"), ("Host", host)])
        #expect(own.status != 403)
        #expect(try await opening(c.url(0, "/events"), headers: [cookie]) == (200, ""))
        // A header token is no ambient credential: a page must have been given it.
        let header = ("Authorization", "Bearer \(try await Self.token(user: alice))")
        #expect(try await opening(c.url(0, "/events"), headers: [header, ("Origin", "https://evil.example")]) == (200, ""))
    }

    // MARK: - Demo tokens

    @Test func aDemoNodeMintsForItsDemoTenantsOnlyAndNoOtherNodeTakesItsTokens() async throws {
        let demo = try await Self.demo.value
        let c = try await Self.cluster.value
        let mint = { (body: String) in
            try await HTTPClient().request("POST", demo.url(0, "/demo/token"), headers: [Self.json], body: Array(body.utf8))
        }
        let acme = try await mint(#"{"user": "ceo", "tenant": "acme"}"#)
        #expect(acme.status == 400)
        #expect(code(acme) == "demo_tenant_only")
        let minted = try await mint(#"{"user": "ceo"}"#)
        #expect(minted.status == 200)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(minted.body)) as? [String: Any])
        let token = try #require(answer["token"] as? String)
        #expect(try await opening(demo.url(0, "/events?token=\(token)")) == (200, ""))
        #expect(try await opening(c.url(0, "/events?token=\(token)")) == (401, "demo_token_refused"))
        let publish = try await request("POST", "/publish", #"{"target":{"type":"user","id":"x","tenant":"demo"},"data":"x"}"#, [Self.json, ("Authorization", "Bearer \(token)")])
        #expect(publish.status == 401)
    }

    // MARK: - Kicks

    /// A kick without reconnect outlives its bar for the tokens issued before it; a new token gets in.
    @Test func aKickWithoutReconnectRevokesTheTokensIssuedBeforeIt() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let session = TestEnvironment.uniqueName("login")
        let old = try await Self.token(user: user, sid: session)
        let (stream, _) = try await c.subscribe(0, "token=\(old)")
        let kick = try await request(
            "POST", "/disconnect", #"{"target":{"type":"session","id":"\#(session)"},"reason":"signed out","reconnect":false}"#,
            [Self.json, ("X-API-Key", Self.apiKey)])
        #expect(kick.status == 202)
        #expect(try await stream.nextOwn()?.event == "disconnect")
        await stream.close()
        // Refused: barred, or (on a machine so busy that the 1-s bar ran out already) revoked.
        #expect(["kicked", "token_revoked"].contains(try await opening(c.url(0, "/events?token=\(old)")).1))
        // The bar (1 s here) runs out; the old token stays refused.
        try await TestEnvironment.eventually("the bar ran out") {
            try await opening(c.url(0, "/events?token=\(old)")).1 != "kicked"
        }
        #expect(try await opening(c.url(0, "/events?token=\(old)")) == (401, "token_revoked"))
        // `iat` is whole seconds: a token minted in a later second than the kick is issued after it.
        try await Task.sleep(for: .milliseconds(1100))
        let fresh = try await Self.token(user: user, sid: session)
        #expect(try await opening(c.url(0, "/events?token=\(fresh)")) == (200, ""))
    }

    // MARK: - Small ones

    @Test func idsWithBidirectionalControlsAreRefused() async throws {
        let c = try await Self.cluster.value
        // The node itself never mints such a token; another issuer might.
        let now = Int(Date().timeIntervalSince1970)
        let sneaky = AuthTests.handMade(
            header: #"{"alg":"HS256","typ":"JWT"}"#, claims: #"{"sub":"admin\u202Enimda","exp":\#(now + 60)}"#, key: Self.secret)
        #expect(try await opening(c.url(0, "/events?token=\(sneaky)")) == (401, "invalid_claim"))
        let target = try await request("POST", "/publish", #"{"target":{"type":"user","id":"a\u202Eb"},"data":"x"}"#, [Self.json, ("X-API-Key", Self.apiKey)])
        #expect(target.status == 400)
    }

    @Test func eventNamesTheClientActsOnAndEndlessRetriesAreRefused() async throws {
        for name in ["connected", "disconnect", "expired", "reset", "close"] {
            let answer = try await request("POST", "/publish", #"{"target":{"type":"user","id":"a"},"event":"\#(name)","data":"x"}"#, [Self.json, ("X-API-Key", Self.apiKey)])
            #expect(answer.status == 400)
            #expect(code(answer) == "reserved_event")
        }
        let retry = try await request("POST", "/publish", #"{"target":{"type":"user","id":"a"},"retry":1000000000000000,"data":"x"}"#, [Self.json, ("X-API-Key", Self.apiKey)])
        #expect(retry.status == 400)
        #expect(code(retry) == "invalid_retry")
    }

    @Test func aSendPathWithADotIsRefused() async throws {
        let bearer = ("Authorization", "Bearer \(try await Self.token(user: "alice"))")
        let dotted = try await request("POST", "/send/chat.room", #"{"text":"hi"}"#, [Self.json, bearer])
        #expect(dotted.status == 400)
        #expect(code(dotted) == "invalid_path")
    }

    /// What a store answered (its host, port, error) is for an operator's key only.
    @Test func notReadyDetailsTakeAnAPIKey() async throws {
        let down = try await TestCluster.start(nodes: 1, redisURL: "redis://127.0.0.1:1/0") { configuration in
            configuration.auth.disabled = false
            configuration.auth.jwtSecret = Self.secret
            configuration.auth.apiKeys = [Self.apiKey]
        }
        defer { Task { await down.stop() } }
        let probe = try await HTTPClient().request("GET", down.url(0, "/readyz"))
        #expect(probe.status == 503)
        let reasons = try #require(try JSONSerialization.jsonObject(with: Data(probe.body)) as? [String: Any])["reasons"] as? [String]
        #expect(reasons?.contains("Redis unreachable") == true)
        #expect(reasons?.allSatisfy { !$0.contains(":") } == true)
        let operator_ = try await HTTPClient().request("GET", down.url(0, "/readyz"), headers: [("X-API-Key", Self.apiKey)])
        #expect(operator_.bodyString.contains("Redis unreachable: "))
        let svc = try await Self.token(user: "svc", publish: ["user:*"])
        let publish = try await HTTPClient().request(
            "POST", down.url(0, "/publish"), headers: [Self.json, ("Authorization", "Bearer \(svc)")], body: Array(#"{"target":{"type":"user","id":"a"},"data":"x"}"#.utf8))
        #expect(publish.status == 503)
        #expect(publish.bodyString.contains("(Redis); retry with the same id"))
    }
}
