import JWTKit

/// A token's payload as JSON carries it, before the checks of `Authenticator.verify`. Also what
/// `Authenticator.mint` signs, which is why it is a `JWTPayload`.
struct TokenClaims: JWTPayload, Equatable {
    var sub: String?
    var tenant: String?
    var sid: String?
    var channels: [String]?
    var publish: [String]?
    /// NumericDate claims, seconds since 1970 (fractions allowed when read).
    var exp: Double?
    var nbf: Double?
    var iat: Double?
    var iss: String?
    /// `aud` is a string or an array of strings.
    var aud: [String]?
    /// Set on tokens a demo node mints: only nodes in demo mode accept them.
    var demo: Bool?

    init(
        sub: String? = nil, tenant: String? = nil, sid: String? = nil, channels: [String]? = nil, publish: [String]? = nil,
        exp: Double? = nil, nbf: Double? = nil, iat: Double? = nil, iss: String? = nil, aud: [String]? = nil, demo: Bool? = nil
    ) {
        self.sub = sub
        self.tenant = tenant
        self.sid = sid
        self.channels = channels
        self.publish = publish
        self.exp = exp
        self.nbf = nbf
        self.iat = iat
        self.iss = iss
        self.aud = aud
        self.demo = demo
    }

    private enum CodingKeys: String, CodingKey {
        case sub, tenant, sid, channels, publish, exp, nbf, iat, iss, aud, demo
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sub = try c.decodeIfPresent(String.self, forKey: .sub)
        tenant = try c.decodeIfPresent(String.self, forKey: .tenant)
        sid = try c.decodeIfPresent(String.self, forKey: .sid)
        channels = try c.decodeIfPresent([String].self, forKey: .channels)
        publish = try c.decodeIfPresent([String].self, forKey: .publish)
        exp = try c.decodeIfPresent(Double.self, forKey: .exp)
        nbf = try c.decodeIfPresent(Double.self, forKey: .nbf)
        iat = try c.decodeIfPresent(Double.self, forKey: .iat)
        iss = try c.decodeIfPresent(String.self, forKey: .iss)
        if let single = try? c.decodeIfPresent(String.self, forKey: .aud) {
            aud = [single]
        } else {
            aud = try c.decodeIfPresent([String].self, forKey: .aud)
        }
        demo = try c.decodeIfPresent(Bool.self, forKey: .demo)
    }

    /// Dates as whole seconds, as most verifiers expect them; a single audience as a string.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(sub, forKey: .sub)
        try c.encodeIfPresent(tenant, forKey: .tenant)
        try c.encodeIfPresent(sid, forKey: .sid)
        try c.encodeIfPresent(channels, forKey: .channels)
        try c.encodeIfPresent(publish, forKey: .publish)
        try Self.encodeDate(exp, forKey: .exp, in: &c)
        try Self.encodeDate(nbf, forKey: .nbf, in: &c)
        try Self.encodeDate(iat, forKey: .iat, in: &c)
        try c.encodeIfPresent(iss, forKey: .iss)
        if let aud {
            if aud.count == 1 { try c.encode(aud[0], forKey: .aud) } else { try c.encode(aud, forKey: .aud) }
        }
        try c.encodeIfPresent(demo, forKey: .demo)
    }

    private static func encodeDate(_ seconds: Double?, forKey key: CodingKeys, in c: inout KeyedEncodingContainer<CodingKeys>) throws {
        guard let seconds else { return }
        if let whole = Int64(exactly: seconds.rounded(.down)) {
            try c.encode(whole, forKey: key)
        } else {
            try c.encode(seconds, forKey: key)
        }
    }

    /// Never called: tokens are checked by `Authenticator.verify`, which knows the node's policy. Refuses,
    /// so that verifying through jwt-kit's own path by mistake cannot accept a token unchecked.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        throw AuthError("unverified_claims", "claims are checked by Authenticator.verify")
    }
}
