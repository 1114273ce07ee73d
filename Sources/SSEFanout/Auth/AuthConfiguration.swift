/// How a node authenticates subscribers and publishers. Plain settings with defaults; `Authenticator.load`
/// reads the key file and turns them into something that verifies tokens.
public struct AuthConfiguration: Sendable, Equatable {
    /// HS256 shared secret, at least 32 bytes with at least 8 different ones (shorter or repetitive HMAC
    /// keys are guessable offline from any token).
    public var jwtSecret: String?
    /// A PEM public key (RSA → RS256, EC P-256 → ES256), a PEM private key of those kinds (its public key
    /// verifies, and the node can mint tokens with it), or a JWKS JSON file (each key's `kid` honoured).
    public var jwtKeyFile: String?
    /// An identity provider's JWKS (http or https), fetched at startup, every `jwksRefresh`, and when a
    /// token names an unknown `kid`, so that its keys can change without a restart (`JWKSSource`).
    public var jwksURL: String?
    /// How often the JWKS at `jwksURL` is fetched again.
    public var jwksRefresh: Duration = .seconds(300)
    /// When set, a token's `iss` must equal it.
    public var issuer: String?
    /// When set, a token's `aud` (a string or an array) must contain it.
    public var audience: String?
    /// A token whose `exp` lies further than this in the future is refused: a leaked long-lived token
    /// would otherwise stay usable for as long as its issuer chose.
    public var maxTokenLifetime: Duration = .seconds(24 * 3600)
    /// The cookie a browser's `EventSource` sends its token in (it cannot set an `Authorization` header).
    public var cookieName = "sse_token"
    /// Keys that let a backend publish to any target, at least 16 bytes each. Compared in constant time.
    public var apiKeys: [String] = []
    /// Keys that publish, kick and read presence in one tenant only. Compared in constant time.
    public var tenantAPIKeys: [TenantAPIKey] = []
    /// Whether tokens minted by `POST /demo/token` (they carry `"demo": true`) are accepted: only on a
    /// node in demo mode, so that a demo node cannot mint its way into a production cluster.
    public var acceptsDemoTokens = false
    /// `--no-auth`: every stream and every publication is accepted without credentials.
    public var disabled = false

    public init() {}

    /// Whether a token key is configured: a secret, a key file or a JWKS URL.
    public var isConfigured: Bool { jwtSecret != nil || jwtKeyFile != nil || jwksURL != nil }
}
