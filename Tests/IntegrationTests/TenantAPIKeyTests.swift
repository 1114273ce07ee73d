import Foundation
import SSEClient
import SSEFanout
import Testing

/// `--tenant-api-key TENANT=KEY` on a real node: a backend's key for its own tenant only.
@Suite struct TenantAPIKeyTests {
    static let acmeKey = "acme-tenant-key-0123456789"

    static let cluster = Task {
        try await TestCluster.startAuthenticated(nodes: 2, secret: TenantSecurityTests.secret, apiKeys: [TenantSecurityTests.apiKey]) {
            $0.auth.tenantAPIKeys = [TenantAPIKey(tenant: "acme", key: acmeKey)]
        }
    }

    private func call(_ method: String, _ path: String, _ body: String? = nil, node: Int = 0) async throws -> HTTPResponse {
        let c = try await Self.cluster.value
        return try await HTTPClient().request(
            method, c.url(node, path), headers: [("Content-Type", "application/json"), ("X-API-Key", Self.acmeKey)], body: body.map { Array($0.utf8) } ?? [])
    }

    @Test func aTenantKeyPublishesKicksAndReadsPresenceInItsTenantOnly() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (inAcme, info) = try await c.subscribe(1, "token=\(try await TenantSecurityTests.token(user: user, tenant: "acme"))")
        let (inBeta, _) = try await c.subscribe(1, "token=\(try await TenantSecurityTests.token(user: user, tenant: "beta"))")
        defer { Task { await inBeta.close() } }

        // A target without a tenant is in the key's tenant.
        #expect(try await call("POST", "/publish", #"{"target":{"type":"user","id":"\#(user)"},"data":"for acme"}"#).status == 202)
        #expect(try await inAcme.nextOwn()?.data == "for acme")
        for target in [
            #"{"type":"user","id":"\#(user)","tenant":"beta"}"#, #"{"type":"tenant","id":"beta"}"#, #"{"type":"broadcast"}"#,
            #"{"type":"connection","id":"\#(info.connectionId)"}"#,
        ] {
            let refused = try await call("POST", "/publish", #"{"target":\#(target),"data":"x"}"#)
            #expect(refused.status == 403, "\(target)")
            #expect(refused.bodyString.contains("target_not_allowed"))
        }
        #expect(try await call("GET", "/presence/users/\(user)").bodyString.contains(#""online":true"#))
        #expect(try await call("GET", "/presence/users?tenant=beta").status == 403)
        #expect(try await call("GET", "/admin/api/nodes").status == 403)
        #expect(try await call("GET", "/metrics").status == 403)
        #expect(try await call("POST", "/disconnect", #"{"target":{"type":"user","id":"\#(user)","tenant":"beta"}}"#).status == 403)
        #expect(try await call("POST", "/disconnect", #"{"target":{"type":"user","id":"\#(user)"}}"#).status == 202)
        #expect(try await inAcme.nextOwn()?.event == "disconnect")
        // The beta stream saw none of it: the full key's marker is the next thing it gets.
        let full = try await HTTPClient().request(
            "POST", c.url(0, "/publish"), headers: [("Content-Type", "application/json"), ("X-API-Key", TenantSecurityTests.apiKey)],
            body: Array(#"{"target":{"type":"tenant","id":"beta"},"data":"marker"}"#.utf8))
        #expect(full.status == 202)
        #expect(try await inBeta.nextOwn()?.data == "marker")
    }
}
