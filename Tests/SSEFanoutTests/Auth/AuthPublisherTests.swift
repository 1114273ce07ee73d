import NIOHTTP1
import Testing

@testable import SSEFanout

@Suite struct AuthPublisherTests {
    typealias T = TestTokens
    private static let key = "pk_live_0123456789"

    private func publisher(_ auth: Authenticator, _ headers: [(String, String)]) -> Result<PublisherCredential, AuthError> {
        Result { () throws(AuthError) in try auth.publisher(headers: HTTPHeaders(headers)) }
    }

    private func code(_ result: Result<PublisherCredential, AuthError>) -> String? {
        if case .failure(let error) = result { return error.code }
        return nil
    }

    @Test func apiKeyInEitherHeader() async throws {
        let auth = try await T.authenticator { $0.apiKeys = ["other-key-0123456789", Self.key] }
        #expect(try publisher(auth, [("X-API-Key", Self.key)]).get() == .apiKey)
        #expect(try publisher(auth, [("Authorization", "Bearer \(Self.key)")]).get() == .apiKey)
        #expect(try publisher(auth, [("x-api-key", "other-key-0123456789")]).get() == .apiKey)
    }

    @Test func unknownKeysAndMissingCredentialsAreRefused() async throws {
        let auth = try await T.authenticator { $0.apiKeys = [Self.key] }
        for wrong in [Self.key + "x", String(Self.key.dropLast()), "", "PK_LIVE_0123456789"] {
            let result = publisher(auth, [("X-API-Key", wrong)])
            #expect(code(result) == "invalid_api_key", "\(wrong)")
            if case .failure(let error) = result {
                #expect(error.status == .unauthorized)
                #expect(wrong.isEmpty || !error.message.contains(wrong))
            }
        }
        #expect(code(publisher(auth, [("Authorization", "Bearer nope")])) == "invalid_api_key")
        #expect(code(publisher(auth, [])) == "missing_credentials")
        #expect(code(publisher(auth, [("Authorization", "Basic dXNlcg==")])) == "missing_credentials")
        // No keys configured: nothing matches, not even an empty one.
        let keyless = try await T.authenticator()
        #expect(code(publisher(keyless, [("X-API-Key", "")])) == "invalid_api_key")
    }

    @Test func tokenWithPublishClaim() async throws {
        let auth = try await T.authenticator { $0.apiKeys = [Self.key] }
        let token = try await auth.mint(user: "svc", tenant: "acme", publish: ["channel:*"], ttl: .seconds(60))
        let credential = try publisher(auth, [("Authorization", "Bearer \(token)")]).get()
        guard case .token(let claims) = credential else {
            Issue.record("expected a token credential, got \(credential)")
            return
        }
        #expect(claims.user == "svc" && claims.tenant == "acme")
        #expect(credential.allows(kind: .channel, tenant: "acme", id: "news"))
        #expect(!credential.allows(kind: .channel, tenant: "globex", id: "news"))
        #expect(!credential.allows(kind: .user, tenant: "acme", id: "alice"))
    }

    @Test func tokenWithoutPublishClaimIsForbidden() async throws {
        let auth = try await T.authenticator()
        let token = try await auth.mint(user: "alice", channels: ["news"], ttl: .seconds(60))
        let result = publisher(auth, [("Authorization", "Bearer \(token)")])
        #expect(code(result) == "publish_not_allowed")
        if case .failure(let error) = result { #expect(error.status == .forbidden) }
        // A bad token is a 401, with the token's own reason.
        let forged = String(token.dropLast(3)) + "abc"
        #expect(code(publisher(auth, [("Authorization", "Bearer \(forged)")])) == "invalid_signature")
    }

    @Test func disabledAuthLetsEveryoneIn() async throws {
        var configuration = AuthConfiguration()
        configuration.disabled = true
        let auth = try await Authenticator.load(configuration)
        #expect(auth.isDisabled)
        #expect(try publisher(auth, []).get() == .unrestricted)
        #expect(try auth.subscriber(headers: [:], uri: "/events") == nil)
    }

    @Test func subscriberNeedsAValidToken() async throws {
        let auth = try await T.authenticator { $0.cookieName = "tk" }
        let token = try await auth.mint(user: "alice", channels: ["news"], ttl: .seconds(60))
        #expect(try auth.subscriber(headers: HTTPHeaders([("Cookie", "a=b; tk=\(token)")]), uri: "/events")?.user == "alice")
        #expect(try auth.subscriber(headers: [:], uri: "/events?token=\(token)")?.user == "alice")
        let missing = T.refusal { () throws(AuthError) in _ = try auth.subscriber(headers: [:], uri: "/events?user=alice") }
        #expect(missing?.code == "missing_token" && missing?.status == .unauthorized)
        // Only the configured cookie counts.
        let wrongCookie = T.refusal { () throws(AuthError) in _ = try auth.subscriber(headers: HTTPHeaders([("Cookie", "sse_token=\(token)")]), uri: "/") }
        #expect(wrongCookie?.code == "missing_token")
    }

    @Test func aNodeWithoutTokenKeysRefusesTokens() async throws {
        var configuration = AuthConfiguration()
        configuration.apiKeys = [Self.key]
        let auth = try await Authenticator.load(configuration)
        #expect(!auth.canMint)
        let error = T.refusal { () throws(AuthError) in _ = try auth.verify(T.token(claims: T.claims())) }
        #expect(error?.code == "tokens_not_accepted" && error?.status == .unauthorized)
        #expect(try publisher(auth, [("X-API-Key", Self.key)]).get() == .apiKey)
    }
}
