/// The targets a token may publish to: its `publish` claim.
///
/// Patterns: `*` (any target), `broadcast`, `KIND:NAME` with KIND one of user, channel, session,
/// client, connection and NAME a `NamePattern` (`user:alice`, `user:*`, `channel:news-*`), and
/// `tenant:NAME` (every target in that tenant, the tenant's own stream included). Tenant confinement,
/// from the token's own `tenant` claim (the default tenant without one), is applied on top of these by
/// `PublisherCredential`.
public struct PublishGrant: Sendable, Equatable {
    public let patterns: [String]

    /// Nil when a pattern is malformed or names an unknown kind: a typo in a grant should fail loudly
    /// when the token is used, not silently grant nothing (or more than meant).
    public init?(patterns: [String]) {
        guard patterns.allSatisfy(Self.isValid) else { return nil }
        self.patterns = patterns
    }

    static func isValid(_ pattern: String) -> Bool {
        if pattern == "*" || pattern == "broadcast" { return true }
        guard let colon = pattern.firstIndex(of: ":") else { return false }
        guard let kind = Address.Kind(rawValue: String(pattern[..<colon])), kind != .broadcast else { return false }
        return NamePattern.isValid(pattern[pattern.index(after: colon)...])
    }

    /// - Parameters:
    ///   - kind: the target's kind.
    ///   - tenant: the tenant the target lives in (for a `tenant` target, its id), if any.
    ///   - id: the target's id; nil only for `broadcast`.
    public func allows(kind: Address.Kind, tenant: String?, id: String?) -> Bool {
        patterns.contains { Self.matches($0, kind: kind, tenant: tenant, id: id) }
    }

    /// Whether one pattern covers every target of `kind` in `tenant`: `*`, `KIND:*`, or `tenant:NAME`
    /// matching it.
    public func allowsEvery(kind: Address.Kind, tenant: String?) -> Bool {
        patterns.contains { pattern in
            if pattern == "*" || pattern == "\(kind.rawValue):*" { return true }
            guard pattern.hasPrefix("tenant:"), let tenant else { return false }
            return NamePattern.matches(pattern.dropFirst("tenant:".count), tenant)
        }
    }

    static func matches(_ pattern: String, kind: Address.Kind, tenant: String?, id: String?) -> Bool {
        if pattern == "*" { return true }
        if pattern == "broadcast" { return kind == .broadcast }
        guard let colon = pattern.firstIndex(of: ":") else { return false }
        let patternKind = pattern[..<colon]
        let name = pattern[pattern.index(after: colon)...]
        if patternKind == "tenant" {
            guard let tenant else { return false }
            return NamePattern.matches(name, tenant)
        }
        guard patternKind == kind.rawValue, let id else { return false }
        return NamePattern.matches(name, id)
    }
}
