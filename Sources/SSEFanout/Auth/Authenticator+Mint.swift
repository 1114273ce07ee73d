import Foundation
import JWTKit

extension Authenticator {
    /// A signed token for `user`, valid from now for `ttl`, with `iat` and `exp`, and `iss`/`aud` when
    /// the node checks them. Signed with the private key from `jwtKeyFile` if there is one, else with
    /// the HS256 secret.
    ///
    /// - Parameters:
    ///   - channels: the `channels` claim; empty leaves it out (no channels).
    ///   - publish: the `publish` claim; empty leaves it out (no publishing).
    ///   - demo: marks a demo page's token (`"demo": true`), which only demo nodes accept.
    /// - Throws: `no_signing_key` when only public keys are configured; `invalid_token_request` for
    ///   claims or a `ttl` this node would refuse in a token.
    public func mint(
        user: String, tenant: String? = nil, sid: String? = nil, channels: [String] = [], publish: [String] = [], ttl: Duration,
        demo: Bool = false
    ) async throws(AuthError) -> String {
        guard let signingKey else {
            throw AuthError(
                "no_signing_key", "minting needs auth.jwtSecret or a private key in auth.jwtKeyFile; only a public key is configured",
                status: .internalServerError
            )
        }
        func invalid(_ message: String) -> AuthError { AuthError("invalid_token_request", message, status: .badRequest) }
        guard ClaimRules.isValidIdentifier(user) else { throw invalid("the user must be 1…256 bytes without control characters") }
        if let tenant, !ClaimRules.isValidTenant(tenant) { throw invalid("the tenant must be 1…64 of A-Z a-z 0-9 . _ -") }
        if let sid, !ClaimRules.isValidIdentifier(sid) { throw invalid("the session id must be 1…256 bytes without control characters") }
        guard ChannelGrant(patterns: channels) != nil else { throw invalid("channels must be names or 'prefix*' patterns") }
        guard PublishGrant(patterns: publish) != nil else { throw invalid("publish patterns must be '*', 'broadcast' or 'KIND:NAME'") }
        let lifetime = Self.seconds(ttl).rounded(.up)
        guard lifetime >= 1 else { throw invalid("the lifetime must be at least one second") }
        guard ttl <= configuration.maxTokenLifetime else {
            throw invalid("the lifetime is longer than auth.maxTokenLifetime; this node would refuse the token")
        }

        let issuedAt = Date().timeIntervalSince1970.rounded(.down)
        let claims = TokenClaims(
            sub: user, tenant: tenant, sid: sid, channels: channels.isEmpty ? nil : channels, publish: publish.isEmpty ? nil : publish,
            exp: issuedAt + lifetime, iat: issuedAt, iss: configuration.issuer, aud: configuration.audience.map { [$0] },
            demo: demo ? true : nil
        )
        do {
            return try await signingKey.keys.sign(claims, kid: signingKey.kid.map { JWKIdentifier(string: $0) })
        } catch {
            throw AuthError("signing_failed", "the token could not be signed: \(error)", status: .internalServerError)
        }
    }
}
