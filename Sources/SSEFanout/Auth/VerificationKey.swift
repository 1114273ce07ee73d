import JWTKit

/// One key a token may be signed with: jwt-kit's algorithm object for it, fixed when the key is loaded.
/// The algorithm comes from the key (its type, or a JWK's `alg`), never from the token's header: a
/// header's `alg` only selects among the configured keys and must name this one's exactly.
struct VerificationKey: Sendable {
    /// The JWK `kid`, for keys from a JWKS.
    var kid: String?
    var algorithm: any JWTAlgorithm

    /// `HS256`, `RS256`, `ES256`, …
    var name: String { algorithm.name }
}
