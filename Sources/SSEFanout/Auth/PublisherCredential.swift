/// Who is publishing, and so what they may address.
public enum PublisherCredential: Sendable, Equatable {
    /// Authentication is disabled (`--no-auth`): every target.
    case unrestricted
    /// One of the configured API keys: every target, in every tenant.
    case apiKey
    /// A verified token with a non-empty `publish` claim.
    case token(VerifiedClaims)

    /// Whether a publication to this target is allowed.
    ///
    /// A token with a `tenant` claim is confined to it: it may only address targets whose tenant is its
    /// own (and the tenant target only when its id is its own tenant), whatever its patterns say. Within
    /// that, one of its `publish` patterns must match.
    ///
    /// - Parameters:
    ///   - kind: connection, user, session, client, tenant, channel or broadcast.
    ///   - tenant: the tenant the target is in; nil for a target outside tenants.
    ///   - id: the target's id; nil for broadcast.
    public func allows(kind: String, tenant: String?, id: String?) -> Bool {
        guard PublishGrant.kinds.contains(kind), kind == "broadcast" || id != nil else { return false }
        switch self {
        case .unrestricted, .apiKey:
            return true
        case .token(let claims):
            guard let grant = claims.publish else { return false }
            // A tenant target lives in the tenant it names.
            let targetTenant = kind == "tenant" ? id : tenant
            if kind == "tenant", let tenant, tenant != id { return false }
            if let own = claims.tenant, targetTenant != own { return false }
            return grant.allows(kind: kind, tenant: targetTenant, id: id)
        }
    }

    /// Throws 403 `target_not_allowed` unless `allows(kind:tenant:id:)`.
    public func check(kind: String, tenant: String?, id: String?) throws(AuthError) {
        guard allows(kind: kind, tenant: tenant, id: id) else {
            throw AuthError.forbidden("target_not_allowed", "the credentials do not allow publishing to this \(kind) target")
        }
    }

    /// `check(kind:tenant:id:)` for an address.
    public func check(_ address: Address) throws(AuthError) {
        switch address.kind {
        case .broadcast: try check(kind: "broadcast", tenant: nil, id: nil)
        case .tenant: try check(kind: "tenant", tenant: address.tenant, id: address.tenant)
        default: try check(kind: address.kind.rawValue, tenant: address.tenant.isEmpty ? nil : address.tenant, id: address.id)
        }
    }

    /// The tenant a token is confined to: targets that name none are taken to be in it.
    public var confinedTenant: String? {
        if case .token(let claims) = self { return claims.tenant }
        return nil
    }
}
