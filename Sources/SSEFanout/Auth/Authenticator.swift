import Crypto
import Foundation
import JWTKit
import NIOHTTP1

/// Verifies subscribers' tokens and publishers' credentials, and mints tokens. Built once per node by
/// `load(_:)` (which reads the key file), then shared by every connection.
///
/// Verification is synchronous: jwt-kit's `JWTKeyCollection` is an actor with an async `verify`, so
/// the keys are loaded through it once and its algorithm objects (which do the signature check with
/// swift-crypto) kept here. Each token is then checked without a hop to the actor:
/// size, shape, `alg` (never `none`, and exactly the algorithm of the key it selects), signature, then
/// claims. Header and payload are each decoded once.
///
/// The keys of a JWKS URL change while the node runs (`JWKSSource`): each token is checked against the
/// `KeySet` current when it arrived, read with one short lock, and never waits for a fetch.
public final class Authenticator: Sendable {
    public let configuration: AuthConfiguration

    /// Tokens longer than this are refused before anything is decoded: a token comes from anyone
    /// who can open a connection, and a header must not be able to make the node decode megabytes.
    public static let maxTokenSize = 8 * 1024
    /// Seconds of clock difference between issuer and node tolerated on `exp`, `nbf` and `iat`.
    public static let leeway: Double = 5

    /// The keys tokens are checked with; those from `auth.jwksUrl` change while the node runs.
    let keyRing: KeyRing
    /// Fetches the keys of `auth.jwksUrl` into `keyRing`; nil without one. `Node` runs it.
    let jwks: JWKSSource?
    private let apiKeyDigests: [[UInt8]]
    /// Each tenant API key's digest with its tenant.
    private let tenantKeyDigests: [(tenant: String, digest: [UInt8])]
    let signingKey: SigningKey?
    private let now: @Sendable () -> Double
    /// One decoder for every token: its options never change, so it is safe to share.
    private let decoder = JSONDecoder()

    convenience init(
        configuration: AuthConfiguration, keys: [VerificationKey], signingKey: SigningKey?,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.init(configuration: configuration, keyRing: KeyRing(configured: keys), jwks: nil, signingKey: signingKey, now: now)
    }

    init(
        configuration: AuthConfiguration, keyRing: KeyRing, jwks: JWKSSource?, signingKey: SigningKey?,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.configuration = configuration
        self.keyRing = keyRing
        self.jwks = jwks
        self.apiKeyDigests = configuration.apiKeys.map { Array(SHA256.hash(data: Array($0.utf8))) }
        self.tenantKeyDigests = configuration.tenantAPIKeys.map { ($0.tenant, Array(SHA256.hash(data: Array($0.key.utf8)))) }
        self.signingKey = signingKey
        self.now = now
    }

    /// `--no-auth`: `subscriber` returns nil and `publisher` `.unrestricted`, without looking at the request.
    public var isDisabled: Bool { configuration.disabled }

    /// Whether `mint` can sign: an HS256 secret or a private key is configured.
    public var canMint: Bool { signingKey != nil }

    /// Algorithms of the configured keys, e.g. `["ES256", "HS256"]`.
    public var algorithms: [String] { keyRing.keys.algorithms }

    /// Why tokens cannot be checked yet (the JWKS URL has not given keys so far), for `/readyz`; nil
    /// when they can.
    public var notReadyReason: String? { jwks?.notReadyReason }

    // MARK: Subscribers

    /// The claims of the request's token (see `TokenSource` for where it is looked for); nil when
    /// authentication is disabled. Throws 401 `missing_token` when there is none, and 403 `cross_origin`
    /// when the token came in the cookie from a page `origins` does not allow (`CORSPolicy.refusesCookie`).
    public func subscriber(headers: HTTPHeaders, uri: String, origins: CORSPolicy? = nil) throws(AuthError) -> VerifiedClaims? {
        guard !isDisabled else { return nil }
        guard let (token, source) = TokenSource.token(headers: headers, uri: uri, cookieName: configuration.cookieName) else {
            throw AuthError.missingToken
        }
        if source == .cookie, let origins, origins.refusesCookie(headers) {
            throw AuthError.forbidden(
                "cross_origin",
                "the token cookie is not accepted from a page of another origin; send the token in an Authorization header, or list the origin with --cors-origin")
        }
        return try verify(token)
    }

    // MARK: Publishers

    /// The publisher's credential: an `X-API-Key` header, or `Authorization: Bearer X` where X is
    /// an API key (full or tenant) or else a token with a `publish` claim.
    ///
    /// Throws 401 `missing_credentials` without either header, 401 `invalid_api_key` for an unknown
    /// key, the token's refusal for a bad token, and 403 `publish_not_allowed` for a valid token that
    /// grants no publishing.
    public func publisher(headers: HTTPHeaders) throws(AuthError) -> PublisherCredential {
        guard !isDisabled else { return .unrestricted }
        if let key = headers.first(name: "x-api-key") {
            guard let credential = keyCredential(key.trimmingCharacters(in: .whitespaces)) else { throw AuthError.invalidAPIKey }
            return credential
        }
        guard let bearer = TokenSource.bearerToken(headers) else { throw AuthError.missingCredentials }
        if let credential = keyCredential(bearer) { return credential }
        // Not shaped like a JWT: an API key that is not one of ours.
        guard bearer.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2 else { throw AuthError.invalidAPIKey }
        let claims = try verify(bearer)
        guard let grant = claims.publish, !grant.patterns.isEmpty else { throw AuthError.publishNotAllowed }
        return .token(claims)
    }

    /// The credential `candidate` is the key of: a full API key, a tenant's key, or nil. Compares SHA-256
    /// digests, against every key with no early exit, so that neither a key's length nor how much of it
    /// matched, nor which kind of key it is, shows in the timing.
    func keyCredential(_ candidate: String) -> PublisherCredential? {
        guard !candidate.isEmpty else { return nil }
        let digest = Array(SHA256.hash(data: Array(candidate.utf8)))
        var full: UInt8 = 0
        for key in apiKeyDigests {
            full |= Self.equal(key, digest)
        }
        var tenant: String?
        for entry in tenantKeyDigests where Self.equal(entry.digest, digest) == 1 {
            tenant = entry.tenant
        }
        if full == 1 { return .apiKey }
        return tenant.map { .tenantKey($0) }
    }

    /// 1 when two digests are equal, else 0, looking at every byte.
    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> UInt8 {
        var difference: UInt8 = 0
        for index in 0..<a.count { difference |= a[index] ^ b[index] }
        return difference == 0 ? 1 : 0
    }

    // MARK: Tokens

    /// The claims of a compact JWT, or the reason it is refused (always 401).
    public func verify(_ token: String) throws(AuthError) -> VerifiedClaims {
        try verify(token, at: now())
    }

    func verify(_ token: String, at now: Double) throws(AuthError) -> VerifiedClaims {
        guard token.utf8.count <= Self.maxTokenSize else {
            throw AuthError("token_too_large", "the token is longer than \(Self.maxTokenSize) bytes")
        }
        let bytes = Array(token.utf8)
        guard let firstDot = bytes.firstIndex(of: UInt8(ascii: ".")),
            let secondDot = bytes[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
            !bytes[(secondDot + 1)...].contains(UInt8(ascii: "."))
        else { throw AuthError.malformedToken }

        guard let headerJSON = Base64URL.decode(bytes[..<firstDot]),
            let header = try? decoder.decode(TokenHeader.self, from: Data(headerJSON))
        else { throw AuthError.malformedToken }
        guard let alg = header.alg, !alg.isEmpty else {
            throw AuthError("malformed_token", "the token's header has no 'alg'")
        }
        guard alg.lowercased() != "none" else {
            throw AuthError("unsecured_token", "unsigned tokens ('alg: none') are not accepted")
        }
        guard header.crit == nil else {
            throw AuthError("malformed_token", "the token's header has critical extensions ('crit') this node does not support")
        }

        let candidates = try keys(for: alg, kid: header.kid, in: keyRing.keys)
        guard let signature = Base64URL.decode(bytes[(secondDot + 1)...]), !signature.isEmpty else {
            throw AuthError.invalidSignature
        }
        let signingInput = bytes[..<secondDot]
        var verified = false
        for key in candidates where !verified {
            verified = (try? key.algorithm.verify(signature, signs: signingInput)) ?? false
        }
        guard verified else { throw AuthError.invalidSignature }

        guard let payloadJSON = Base64URL.decode(bytes[(firstDot + 1)..<secondDot]) else { throw AuthError.malformedToken }
        let claims: TokenClaims
        do {
            claims = try decoder.decode(TokenClaims.self, from: Data(payloadJSON))
        } catch {
            throw AuthError("malformed_token", "the token's claims are not a JSON object with claims of the expected types")
        }
        return try check(claims, at: now)
    }

    /// The keys of `set` a token with this header may be signed with; never empty.
    private func keys(for alg: String, kid: String?, in set: KeySet) throws(AuthError) -> [VerificationKey] {
        if let kid {
            if let key = set.keysByID[kid] {
                guard key.name == alg else {
                    throw AuthError("wrong_algorithm", "the token's 'alg' is not the algorithm of the key its 'kid' names")
                }
                return [key]
            }
            // Perhaps a key the identity provider added since the last fetch: fetched again soon (rate
            // limited); this token is not held back for it.
            jwks?.keyIDMissed()
        }
        guard !set.isEmpty || (kid != nil && jwks != nil) else {
            throw AuthError("tokens_not_accepted", "this node has no key to verify tokens with")
        }
        let pool = kid == nil ? set.keysByAlgorithm : set.unnamedKeysByAlgorithm
        if let keys = pool[alg], !keys.isEmpty { return keys }
        // A kid this node does not know, and no key without a kid that could take the token instead.
        if kid != nil { throw AuthError("unknown_key", "the token's 'kid' names no key this node has") }
        throw AuthError("wrong_algorithm", "the token's 'alg' is not one of the configured keys' (\(set.algorithms.joined(separator: ", ")))")
    }

    /// The node's policy on verified claims.
    private func check(_ claims: TokenClaims, at now: Double) throws(AuthError) -> VerifiedClaims {
        let leeway = Self.leeway
        guard let exp = claims.exp else { throw AuthError("missing_expiry", "the token has no 'exp' claim") }
        guard now < exp + leeway else { throw AuthError("token_expired", "the token has expired") }
        let maxLifetime = Self.seconds(configuration.maxTokenLifetime)
        guard exp - now <= maxLifetime + leeway else {
            throw AuthError(
                "token_lifetime_too_long", "the token's 'exp' is more than \(Int(maxLifetime)) seconds away; this node refuses longer-lived tokens"
            )
        }
        if let nbf = claims.nbf, nbf > now + leeway {
            throw AuthError("token_not_yet_valid", "the token is not valid yet ('nbf')")
        }
        if let iat = claims.iat, iat > now + leeway {
            throw AuthError("token_not_yet_valid", "the token was issued in the future ('iat')")
        }
        if let issuer = configuration.issuer, claims.iss != issuer {
            throw AuthError("wrong_issuer", "the token's 'iss' is not this node's issuer")
        }
        if let audience = configuration.audience, !(claims.aud ?? []).contains(audience) {
            throw AuthError("wrong_audience", "the token's 'aud' does not name this node's audience")
        }
        // A demo page mints tokens for anyone: they are good on demo nodes only, and in the demo tenant only.
        let isDemo = claims.demo == true
        if isDemo {
            guard configuration.acceptsDemoTokens else {
                throw AuthError("demo_token_refused", "demo tokens are accepted only by nodes in demo mode")
            }
            guard let tenant = claims.tenant, DemoRoutes.isDemoTenant(tenant) else {
                throw AuthError("demo_token_refused", "a demo token must be confined to a demo tenant")
            }
        }
        guard let user = claims.sub else { throw AuthError("invalid_claim", "the token has no 'sub' claim") }
        guard ClaimRules.isValidIdentifier(user) else {
            throw AuthError.invalidClaim("sub", "must be 1…\(ClaimRules.maxIdentifierLength) bytes without control or bidirectional-override characters")
        }
        if let tenant = claims.tenant, !ClaimRules.isValidTenant(tenant) {
            throw AuthError.invalidClaim("tenant", "must be 1…\(ClaimRules.maxTenantLength) of A-Z a-z 0-9 . _ -")
        }
        if let sid = claims.sid, !ClaimRules.isValidIdentifier(sid) {
            throw AuthError.invalidClaim("sid", "must be 1…\(ClaimRules.maxIdentifierLength) bytes without control or bidirectional-override characters")
        }
        var channels = ChannelGrant.none
        if let patterns = claims.channels {
            guard let grant = ChannelGrant(patterns: patterns) else {
                throw AuthError.invalidClaim("channels", "must hold channel names or 'prefix*' patterns")
            }
            channels = grant
        }
        var publish: PublishGrant?
        if let patterns = claims.publish {
            guard let grant = PublishGrant(patterns: patterns) else {
                throw AuthError.invalidClaim("publish", "must hold '*', 'broadcast' or 'KIND:NAME' patterns")
            }
            publish = grant
        }
        return VerifiedClaims(
            user: user, tenant: claims.tenant, sessionID: claims.sid, channels: channels, publish: publish, expiresAt: exp,
            issuedAt: claims.iat, isDemo: isDemo
        )
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
