extension AuthConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The settings with the secret and the API keys left out, so that printing a configuration (or one
    /// that embeds this) never writes a credential to a log.
    public var description: String {
        var parts = [
            "jwtSecret: \(jwtSecret == nil ? "nil" : "<redacted>")",
            "jwtKeyFile: \(jwtKeyFile ?? "nil")",
            "jwksUrl: \(jwksURL.map(LogRedaction.url) ?? "nil")",
            "jwksRefresh: \(jwksRefresh)",
            "issuer: \(issuer ?? "nil")",
            "audience: \(audience ?? "nil")",
            "maxTokenLifetime: \(maxTokenLifetime)",
            "cookieName: \(cookieName)",
            "apiKeys: \(apiKeys.count) redacted",
            "tenantAPIKeys: \(tenantAPIKeys.map { "\($0.tenant)=<redacted>" })",
        ]
        if disabled { parts.append("disabled") }
        return "AuthConfiguration(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }
}
