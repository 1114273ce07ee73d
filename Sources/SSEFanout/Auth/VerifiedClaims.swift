/// What a verified token says about its bearer. Held for as long as a stream is open, so it keeps only
/// what routing and permission checks need: plain strings and the two grants' pattern arrays.
public struct VerifiedClaims: Sendable, Equatable {
    /// The `sub` claim: the user.
    public var user: String
    /// The `tenant` claim, `[A-Za-z0-9._-]{1,64}`.
    public var tenant: String?
    /// The `sid` claim: a session id.
    public var sessionID: String?
    /// The `channels` claim. Without one the token may subscribe to no channel.
    public var channels: ChannelGrant
    /// The `publish` claim; nil when absent (the token cannot publish).
    public var publish: PublishGrant?
    /// The `exp` claim, seconds since 1970: a stream may be closed when its token runs out.
    public var expiresAt: Double
    /// The `iat` claim, seconds since 1970, when the token has one: a kick without reconnect refuses
    /// tokens issued before it.
    public var issuedAt: Double?
    /// Minted by a demo node's `POST /demo/token` (the `demo` claim).
    public var isDemo: Bool

    public init(
        user: String, tenant: String? = nil, sessionID: String? = nil, channels: ChannelGrant = .none,
        publish: PublishGrant? = nil, expiresAt: Double, issuedAt: Double? = nil, isDemo: Bool = false
    ) {
        self.user = user
        self.tenant = tenant
        self.sessionID = sessionID
        self.channels = channels
        self.publish = publish
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.isDemo = isDemo
    }

    /// Whether the token grants subscribing to `name` (see `ChannelGrant`: no claim, no channels).
    public func allowsChannel(_ name: String) -> Bool {
        channels.allows(name)
    }

    /// Throws 403 `channel_not_allowed` naming the first of `names` the token does not grant.
    public func checkChannels(_ names: [String]) throws(AuthError) {
        for name in names where !channels.allows(name) {
            throw AuthError.forbidden("channel_not_allowed", "the token does not grant channel '\(name)'")
        }
    }
}
