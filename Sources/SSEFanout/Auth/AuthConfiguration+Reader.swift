import Configuration
import Foundation

extension AuthConfiguration {
    /// The `auth.*` settings, for `ConfigurationLoader` to read with the rest: `auth.jwtSecret`,
    /// `auth.jwtKeyFile`, `auth.jwksUrl`, `auth.jwksRefresh` (seconds), `auth.issuer`, `auth.audience`,
    /// `auth.maxTokenLifetime` (seconds), `auth.cookieName`, `auth.apiKeys` and `auth.disabled`
    /// (environment: `SSE_FANOUT_AUTH_JWT_SECRET`, …). The secret, the API keys and the JWKS URL (which
    /// may carry a password) are read as secrets, so that configuration dumps redact them.
    static func read(_ config: ConfigReader) throws(ConfigurationError) -> AuthConfiguration {
        var c = AuthConfiguration()
        c.jwtSecret = config.string(forKey: "auth.jwtSecret", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        c.jwtKeyFile = config.string(forKey: "auth.jwtKeyFile").flatMap { $0.isEmpty ? nil : $0 }
        c.jwksURL = config.string(forKey: "auth.jwksUrl", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        if let refresh = try config.seconds(forKey: "auth.jwksRefresh") { c.jwksRefresh = refresh }
        c.issuer = config.string(forKey: "auth.issuer").flatMap { $0.isEmpty ? nil : $0 }
        c.audience = config.string(forKey: "auth.audience").flatMap { $0.isEmpty ? nil : $0 }
        if let lifetime = try config.seconds(forKey: "auth.maxTokenLifetime") { c.maxTokenLifetime = lifetime }
        c.cookieName = config.string(forKey: "auth.cookieName", default: c.cookieName)
        c.apiKeys = config.stringArray(forKey: "auth.apiKeys", isSecret: true, default: []).filter { !$0.isEmpty }
        for text in config.stringArray(forKey: "auth.tenantApiKeys", isSecret: true, default: []) where !text.isEmpty {
            guard let key = TenantAPIKey(text) else {
                throw ConfigurationError("auth.tenantApiKeys: each entry is TENANT=KEY; one has no '='")
            }
            c.tenantAPIKeys.append(key)
        }
        c.disabled = config.bool(forKey: "auth.disabled", default: c.disabled)
        try c.validate()
        return c
    }

    /// Refuses settings a node cannot authenticate with. Being configured is not required: a node
    /// with no key refuses every token (and so every stream) unless `disabled`.
    func validate() throws(ConfigurationError) {
        if let secret = jwtSecret {
            guard secret.utf8.count >= Authenticator.minimumSecretLength else {
                throw ConfigurationError("auth.jwtSecret must be at least \(Authenticator.minimumSecretLength) bytes")
            }
            // 32 times the same byte, or a short pattern repeated, is as guessable as a short secret.
            let distinct = Set(secret.utf8).count
            guard distinct >= Authenticator.minimumDistinctSecretBytes else {
                throw ConfigurationError(
                    "auth.jwtSecret has \(distinct) distinct bytes; at least \(Authenticator.minimumDistinctSecretBytes) are needed: use random bytes, e.g. `openssl rand -hex 32`"
                )
            }
        }
        for entry in tenantAPIKeys {
            guard ClaimRules.isValidTenant(entry.tenant) else {
                throw ConfigurationError("auth.tenantApiKeys: '\(entry.tenant)' is not a tenant (1…64 of A-Z a-z 0-9 . _ -)")
            }
            guard entry.key.utf8.count >= Authenticator.minimumAPIKeyLength else {
                throw ConfigurationError("auth.tenantApiKeys: the key of tenant '\(entry.tenant)' is shorter than \(Authenticator.minimumAPIKeyLength) bytes")
            }
        }
        // Keys are not printed: only which one, and its length.
        for (index, key) in apiKeys.enumerated() where key.utf8.count < Authenticator.minimumAPIKeyLength {
            throw ConfigurationError(
                "auth.apiKeys: key #\(index + 1) has \(key.utf8.count) bytes; API keys must be at least \(Authenticator.minimumAPIKeyLength), e.g. `openssl rand -hex 16`"
            )
        }
        if let url = jwksURL {
            let lowered = url.lowercased()
            guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), let host = URL(string: url)?.host, !host.isEmpty else {
                throw ConfigurationError("auth.jwksUrl must be an http:// or https:// URL with a host; got '\(LogRedaction.url(url))'")
            }
        }
        guard jwksRefresh >= .seconds(1) else { throw ConfigurationError("auth.jwksRefresh must be at least 1 second") }
        guard maxTokenLifetime > .zero else { throw ConfigurationError("auth.maxTokenLifetime must be positive") }
        // RFC 6265 cookie-name: a token, no separators.
        let separators = Set("()<>@,;:\\\"/[]?={} \t".unicodeScalars)
        guard !cookieName.isEmpty,
            cookieName.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && !separators.contains($0) })
        else {
            throw ConfigurationError("auth.cookieName must be a cookie name: ASCII letters, digits and !#$%&'*+-.^_`|~")
        }
    }
}
