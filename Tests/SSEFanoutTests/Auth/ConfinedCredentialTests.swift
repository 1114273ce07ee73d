import Foundation
import NIOHTTP1
import Testing

@testable import SSEFanout

/// Tenant API keys, demo tokens, and what a token says about when it was issued.
@Suite struct ConfinedCredentialTests {
    typealias T = TestTokens
    private static let fullKey = "full-key-0123456789abcdef"
    private static let acmeKey = "acme-key-0123456789abcdef"

    private func credential(_ auth: Authenticator, _ headers: [(String, String)]) throws(AuthError) -> PublisherCredential {
        try auth.publisher(headers: HTTPHeaders(headers))
    }

    @Test func aTenantKeyIsATenantKeyInEitherHeader() async throws {
        let auth = try await T.authenticator {
            $0.apiKeys = [Self.fullKey]
            $0.tenantAPIKeys = [TenantAPIKey(tenant: "acme", key: Self.acmeKey), TenantAPIKey(tenant: "beta", key: "beta-key-0123456789abcdef")]
        }
        #expect(try credential(auth, [("X-API-Key", Self.acmeKey)]) == .tenantKey("acme"))
        #expect(try credential(auth, [("Authorization", "Bearer \(Self.acmeKey)")]) == .tenantKey("acme"))
        #expect(try credential(auth, [("X-API-Key", "beta-key-0123456789abcdef")]) == .tenantKey("beta"))
        #expect(try credential(auth, [("X-API-Key", Self.fullKey)]) == .apiKey)
        #expect(T.refusal { () throws(AuthError) in _ = try credential(auth, [("X-API-Key", Self.acmeKey + "x")]) }?.code == "invalid_api_key")
    }

    @Test func tenantKeysAreReadAsTenantEqualsKeyAndChecked() throws {
        #expect(TenantAPIKey("acme=k=ey") == TenantAPIKey(tenant: "acme", key: "k=ey"))
        #expect(TenantAPIKey("nokey") == nil)
        func refusal(_ key: TenantAPIKey) -> String? {
            var configuration = AuthConfiguration()
            configuration.tenantAPIKeys = [key]
            do { try configuration.validate() } catch { return "\(error)" }
            return nil
        }
        #expect(refusal(TenantAPIKey(tenant: "acme", key: Self.acmeKey)) == nil)
        #expect(refusal(TenantAPIKey(tenant: "ac me", key: Self.acmeKey))?.contains("not a tenant") == true)
        #expect(refusal(TenantAPIKey(tenant: "acme", key: "short"))?.contains("shorter than 16 bytes") == true)
    }

    @Test func tenantKeysAreReadFromTheEnvironmentCommaSeparated() async throws {
        let configuration = try await ConfigurationLoader.load(environment: [
            "SSE_FANOUT_AUTH_TENANT_API_KEYS": "acme=\(Self.acmeKey),beta=beta-key-0123456789abcdef",
            "SSE_FANOUT_AUTH_JWT_SECRET": T.secret,
        ])
        #expect(configuration.auth.tenantAPIKeys == [
            TenantAPIKey(tenant: "acme", key: Self.acmeKey), TenantAPIKey(tenant: "beta", key: "beta-key-0123456789abcdef"),
        ])
        // A configuration dump names the tenants, never the keys.
        #expect(!"\(configuration.auth)".contains(Self.acmeKey))
        #expect("\(configuration.auth)".contains("acme=<redacted>"))
    }

    @Test func aDemoTokenIsRefusedByANodeWithoutDemoModeAndOutsideTheDemoTenants() async throws {
        let demoNode = try await T.authenticator { $0.acceptsDemoTokens = true }
        let productionNode = try await T.authenticator()
        let token = try await demoNode.mint(user: "ceo", tenant: "demo", channels: ["demo-*"], ttl: .seconds(60), demo: true)
        #expect(try demoNode.verify(token).isDemo)
        #expect(T.refusal { () throws(AuthError) in _ = try productionNode.verify(token) }?.code == "demo_token_refused")
        // Signed with the production key, for a real tenant: refused even by a demo node.
        let forged = try await demoNode.mint(user: "ceo", tenant: "acme", ttl: .seconds(60), demo: true)
        #expect(T.refusal { () throws(AuthError) in _ = try demoNode.verify(forged) }?.code == "demo_token_refused")
        let tenantless = try await demoNode.mint(user: "ceo", ttl: .seconds(60), demo: true)
        #expect(T.refusal { () throws(AuthError) in _ = try demoNode.verify(tenantless) }?.code == "demo_token_refused")
        // A demo tenant of its own (`demo-…`) is still a demo tenant.
        #expect(try demoNode.verify(try await demoNode.mint(user: "a", tenant: "demo-x1", ttl: .seconds(60), demo: true)).tenant == "demo-x1")
        // An ordinary token is unaffected.
        #expect(try !productionNode.verify(try await productionNode.mint(user: "ceo", tenant: "acme", ttl: .seconds(60))).isDemo)
        #expect(DemoRoutes.isDemoTenant("demo") && DemoRoutes.isDemoTenant("demo-1") && !DemoRoutes.isDemoTenant("demox") && !DemoRoutes.isDemoTenant("acme"))
    }

    @Test func theIssueTimeIsKeptForRevocation() async throws {
        let auth = try await T.authenticator()
        let claims = try auth.verify(T.token(claims: T.claims(["iat": T.now - 100])), at: T.now)
        #expect(claims.issuedAt == T.now - 100)
        let without = try auth.verify(T.token(claims: T.claims(["iat": NSNull()])), at: T.now)
        #expect(without.issuedAt == nil)
    }

    @Test func idsWithBidirectionalControlsAreRefused() async throws {
        let auth = try await T.authenticator()
        for sneaky in ["admin\u{202E}nimda", "a\u{2066}b", "a\u{200F}", "\u{061C}x"] {
            #expect(T.refusal { () throws(AuthError) in _ = try auth.verify(T.token(claims: T.claims(["sub": sneaky])), at: T.now) }?.code == "invalid_claim")
            #expect(throws: PublicationError.self) { try Identifier.validate("user", sneaky) }
        }
        // Zero-width and other format characters are fine in an id (names need them); logs escape them.
        #expect(Identifier.isValid("a\u{200D}b"))
    }
}
