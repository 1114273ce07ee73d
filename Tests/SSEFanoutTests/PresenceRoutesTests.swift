import Foundation
import Testing

@testable import SSEFanout

@Suite struct PresenceRoutesTests {
    private struct Unavailable: Error, CustomStringConvertible {
        var description: String { "Redis unreachable at 127.0.0.1:6391: connection refused" }
    }

    /// A store that is down.
    private struct DownPresence: Presence {
        func onlineUsers(tenant: String, channel: String?, after: String?, limit: Int) async throws -> PresencePage<OnlineUser> { throw Unavailable() }
        func userPresence(_ user: String, tenant: String, limit: Int) async throws -> UserPresence { throw Unavailable() }
        func connections(_ filter: ConnectionFilter, after: String?, limit: Int) async throws -> PresencePage<ConnectionRecord> { throw Unavailable() }
    }

    private func registry() async throws -> InProcessRegistry {
        let registry = InProcessRegistry()
        let records = [
            ConnectionRecord(connectionID: "c1", nodeID: "n1", connectedAt: 10, addresses: ConnectionRecord.addresses(user: "bob", clientID: "phone", session: "s1", channels: ["news"])),
            ConnectionRecord(connectionID: "c2", nodeID: "n2", connectedAt: 20, addresses: ConnectionRecord.addresses(user: "bob")),
            ConnectionRecord(connectionID: "c3", nodeID: "n1", connectedAt: 30, addresses: ConnectionRecord.addresses(user: "al/ice", channels: ["news"])),
            ConnectionRecord(connectionID: "c4", nodeID: "n1", connectedAt: 40, addresses: ConnectionRecord.addresses(user: "carol", tenant: "acme")),
            ConnectionRecord(connectionID: "c5", nodeID: "n1", connectedAt: 50, addresses: ConnectionRecord.addresses(user: nil, channels: ["news"])),
        ]
        for record in records { try await registry.register(record, joined: record.addresses) }
        return registry
    }

    private func json(_ body: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    @Test func usersArePagedWithAnOpaqueCursor() async throws {
        let registry = try await registry()
        let (status, body) = await PresenceRoutes.answer(uri: "/presence/users?limit=1", presence: registry)
        #expect(status == .ok)
        #expect(String(decoding: body, as: UTF8.self) == #"{"users":[{"user":"al/ice","connections":1,"onlineSince":30}],"cursor":"YWwvaWNl"}"#)
        let (_, next) = await PresenceRoutes.answer(uri: "/presence/users?limit=1&cursor=YWwvaWNl", presence: registry)
        #expect(String(decoding: next, as: UTF8.self) == #"{"users":[{"user":"bob","connections":2,"onlineSince":10}],"cursor":null}"#)
        let (_, acme) = await PresenceRoutes.answer(uri: "/presence/users?tenant=acme", presence: registry)
        #expect(String(decoding: acme, as: UTF8.self) == #"{"users":[{"user":"carol","connections":1,"onlineSince":40}],"cursor":null}"#)
        let (_, channel) = await PresenceRoutes.answer(uri: "/presence/users?channel=news", presence: registry)
        #expect(try (json(channel)["users"] as? [[String: Any]])?.compactMap { $0["user"] as? String } == ["al/ice", "bob"])
    }

    @Test func oneUserWithTheirConnections() async throws {
        let registry = try await registry()
        let (status, body) = await PresenceRoutes.answer(uri: "/presence/users/bob", presence: registry)
        #expect(status == .ok)
        #expect(String(decoding: body, as: UTF8.self) == """
            {"user":"bob","tenant":"","online":true,"onlineSince":10,"connections":[\
            {"connectionId":"c1","node":"n1","tenant":"","user":"bob","session":"s1","clientId":"phone","channels":["news"],"connectedAt":10},\
            {"connectionId":"c2","node":"n2","tenant":"","user":"bob","session":null,"clientId":null,"channels":[],"connectedAt":20}]}
            """)
        // A user id with a slash, percent-encoded in the path.
        let (_, slashed) = await PresenceRoutes.answer(uri: "/presence/users/al%2Fice", presence: registry)
        #expect(try json(slashed)["online"] as? Bool == true)
        let (offlineStatus, offline) = await PresenceRoutes.answer(uri: "/presence/users/dave", presence: registry)
        #expect(offlineStatus == .ok)
        #expect(String(decoding: offline, as: UTF8.self) == #"{"user":"dave","tenant":"","online":false,"onlineSince":null,"connections":[]}"#)
    }

    @Test func connectionsAreFilteredAndPaged() async throws {
        let registry = try await registry()
        let ids = { (uri: String) async throws -> [String] in
            let (status, body) = await PresenceRoutes.answer(uri: uri, presence: registry)
            #expect(status == .ok)
            return try (self.json(body)["connections"] as? [[String: Any]])?.compactMap { $0["connectionId"] as? String } ?? []
        }
        #expect(try await ids("/presence/connections") == ["c1", "c2", "c3", "c5"])
        #expect(try await ids("/presence/connections?channel=news&limit=2") == ["c1", "c3"])
        #expect(try await ids("/presence/connections?channel=news&cursor=YzM") == ["c5"])
        #expect(try await ids("/presence/connections?user=bob&session=s1") == ["c1"])
        #expect(try await ids("/presence/connections?tenant=acme") == ["c4"])
        let (_, first) = await PresenceRoutes.answer(uri: "/presence/connections?limit=1", presence: registry)
        #expect(try json(first)["cursor"] as? String == "YzE")
    }

    @Test func badParametersAreRefusedWith400() async throws {
        let registry = try await registry()
        for (uri, code) in [
            ("/presence/users?limit=0", "invalid_limit"), ("/presence/users?limit=1001", "invalid_limit"),
            ("/presence/users?limit=ten", "invalid_limit"), ("/presence/connections?cursor=%25%25", "invalid_cursor"),
            ("/presence/connections?cursor=a", "invalid_cursor"), ("/presence/users?tenant=a:b", "invalid_tenant"),
            ("/presence/connections?user=", "invalid_user"), ("/presence/connections?channel=a%0Ab", "invalid_channel"),
            // No id is longer than 256 bytes, so no cursor is longer than their base64url.
            ("/presence/users?cursor=" + String(repeating: "QUFB", count: 87), "invalid_cursor"),
            ("/presence/users?cursor=" + String(repeating: "QUFB", count: 86), "invalid_cursor"),
        ] {
            let (status, body) = await PresenceRoutes.answer(uri: uri, presence: registry)
            #expect(status == .badRequest, "\(uri)")
            #expect(try json(body)["error"] as? String == code, "\(uri)")
            #expect(try json(body)["message"] is String)
        }
        let (status, body) = await PresenceRoutes.answer(uri: "/presence/nope", presence: registry)
        #expect(status == .notFound)
        #expect(try json(body)["error"] as? String == "not_found")
        #expect(PresenceRoutes.handles("/presence/users") && PresenceRoutes.handles("/presence/users/x") && !PresenceRoutes.handles("/presences"))
    }

    @Test func theLongestCursorIsTheLongestIdsOwn() throws {
        let longest = String(repeating: "x", count: Identifier.maxLength)
        let cursor = Base64URL.encode(longest.utf8)
        #expect(cursor.utf8.count <= PresenceQuery.maxCursorLength)
        #expect(try PresenceQuery(uri: "/presence/users?cursor=\(cursor)").cursor == longest)
    }

    @Test func aConfinedCredentialSeesItsTenantOnly() async throws {
        let registry = try await registry()
        let (status, body) = await PresenceRoutes.answer(uri: "/presence/users", presence: registry, credential: .tenantKey("acme"))
        #expect(status == .ok)
        #expect(try (json(body)["users"] as? [[String: Any]])?.compactMap { $0["user"] as? String } == ["carol"])
        let (refused, error) = await PresenceRoutes.answer(uri: "/presence/connections?tenant=other", presence: registry, credential: .tenantKey("acme"))
        #expect(refused == .forbidden)
        #expect(try json(error)["error"] as? String == "tenant_not_allowed")
    }

    private func token(tenant: String? = nil, _ publish: [String]) -> PublisherCredential {
        .token(VerifiedClaims(user: "svc", tenant: tenant, publish: PublishGrant(patterns: publish)!, expiresAt: 0))
    }

    /// A token without a tenant claim reads the default tenant only, and only what its patterns reach.
    @Test func aTokenReadsOnlyWhatItsPatternsReachInItsOwnTenant() async throws {
        let registry = try await registry()
        func status(_ uri: String, _ credential: PublisherCredential) async -> Int {
            Int(await PresenceRoutes.answer(uri: uri, presence: registry, credential: credential).status.code)
        }
        let alice = token(["user:alice"])
        #expect(await status("/presence/users?tenant=acme", alice) == 403)
        #expect(await status("/presence/connections?tenant=acme", alice) == 403)
        #expect(await status("/presence/users/carol?tenant=acme", alice) == 403)
        #expect(await status("/presence/users", alice) == 403)
        #expect(await status("/presence/users/bob", alice) == 403)
        #expect(await status("/presence/connections?user=bob", alice) == 403)
        #expect(await status("/presence/users/alice", alice) == 200)
        #expect(await status("/presence/connections?user=alice", alice) == 200)
        #expect(await status("/presence/users?channel=news", alice) == 403)

        let news = token(["channel:news"])
        #expect(await status("/presence/users?channel=news", news) == 200)
        #expect(await status("/presence/connections?channel=news", news) == 200)
        #expect(await status("/presence/connections?channel=sport", news) == 403)

        let everyone = token(["user:*"])
        #expect(await status("/presence/users", everyone) == 200)
        #expect(await status("/presence/connections", everyone) == 200)
        #expect(await status("/presence/users?tenant=acme", everyone) == 403)
        #expect(await status("/presence/users", token(tenant: "acme", ["user:*"])) == 200)
        #expect(await status("/presence/users/carol", token(tenant: "acme", ["user:carol"])) == 200)
    }

    @Test func anUnreachableStoreAnswers503AndOnlyAFullKeyLearnsWhatItSaid() async throws {
        let (status, body) = await PresenceRoutes.answer(uri: "/presence/users", presence: DownPresence())
        #expect(status == .serviceUnavailable)
        #expect(try json(body)["error"] as? String == "unavailable")
        #expect(try (json(body)["message"] as? String)?.contains("127.0.0.1:6391") == true)
        let (_, confined) = await PresenceRoutes.answer(uri: "/presence/users", presence: DownPresence(), credential: token(["user:*"]))
        #expect(try json(confined)["message"] as? String == "presence unavailable (Redis unreachable)")
    }
}
