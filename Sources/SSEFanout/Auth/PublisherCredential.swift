/// Who is publishing, and so what they may address.
///
/// Only a full API key (and a node without authentication) crosses tenants. Every other credential is
/// confined to one tenant: a tenant API key to its own, a token to its `tenant` claim, and a token
/// without one to the default tenant. A confined credential addresses neither `broadcast` (every
/// tenant's streams) nor `connection` targets (connection ids are not scoped by tenant).
public enum PublisherCredential: Sendable, Equatable {
    /// Authentication is disabled (`--no-auth`): every target.
    case unrestricted
    /// One of the configured API keys (`--api-key`): every target, in every tenant.
    case apiKey
    /// A tenant API key (`--tenant-api-key TENANT=KEY`): every target in that tenant, nothing outside it.
    case tenantKey(String)
    /// A verified token with a non-empty `publish` claim.
    case token(VerifiedClaims)

    /// Whether a publication to this target is allowed.
    ///
    /// - Parameters:
        ///   - tenant: the tenant the target is in; nil (or "") for the default tenant.
    ///   - id: the target's id; nil for broadcast.
    public func allows(kind: Address.Kind, tenant: String?, id: String?) -> Bool {
        guard kind == .broadcast || id != nil else { return false }
        guard let own = confinedTenant else { return true }
        guard kind != .broadcast, kind != .connection else { return false }
        // A tenant target lives in the tenant it names.
        if kind == .tenant, let tenant, !tenant.isEmpty, tenant != id { return false }
        let targetTenant = (kind == .tenant ? id : tenant) ?? ""
        guard targetTenant == own else { return false }
        switch self {
        case .unrestricted, .apiKey, .tenantKey:
            return true
        case .token(let claims):
            guard let grant = claims.publish else { return false }
            return grant.allows(kind: kind, tenant: targetTenant.isEmpty ? nil : targetTenant, id: id)
        }
    }

    /// Whether it may address every target of `kind` in `tenant` (what listing a tenant's presence
    /// reveals): a full key, a tenant key of that tenant, or a token confined to it whose patterns
    /// include `*`, `KIND:*` or a `tenant:` pattern naming it.
    public func allowsEvery(kind: Address.Kind, tenant: String) -> Bool {
        guard let own = confinedTenant else { return true }
        guard own == tenant, kind != .broadcast, kind != .connection else { return false }
        switch self {
        case .unrestricted, .apiKey, .tenantKey:
            return true
        case .token(let claims):
            return claims.publish?.allowsEvery(kind: kind, tenant: tenant.isEmpty ? nil : tenant) ?? false
        }
    }

    /// Throws 403 `target_not_allowed` unless `allows(kind:tenant:id:)`.
    public func check(kind: Address.Kind, tenant: String?, id: String?) throws(AuthError) {
        guard allows(kind: kind, tenant: tenant, id: id) else {
            let reason: String
            if confinedTenant != nil, kind == .broadcast || kind == .connection {
                reason = "; \(kind.rawValue) targets take a full API key (they are not confined to a tenant)"
            } else if let own = confinedTenant, ((kind == .tenant ? id : tenant) ?? "") != own {
                reason = own.isEmpty ? "; the credentials are confined to the default tenant" : "; the credentials are confined to tenant '\(own)'"
            } else {
                reason = ""
            }
            throw AuthError.forbidden("target_not_allowed", "the credentials do not allow publishing to this \(kind.rawValue) target\(reason)")
        }
    }

    /// `check(kind:tenant:id:)` for an address.
    public func check(_ address: Address) throws(AuthError) {
        switch address.kind {
        case .broadcast: try check(kind: .broadcast, tenant: nil, id: nil)
        case .tenant: try check(kind: .tenant, tenant: address.tenant, id: address.tenant)
        default: try check(kind: address.kind, tenant: address.tenant.isEmpty ? nil : address.tenant, id: address.id)
        }
    }

    /// The tenant the credential is confined to ("" for the default tenant): targets that name none are
    /// taken to be in it. Nil for a full API key and with authentication off.
    public var confinedTenant: String? {
        switch self {
        case .unrestricted, .apiKey: nil
        case .tenantKey(let tenant): tenant
        case .token(let claims): claims.tenant ?? ""
        }
    }

    /// Whether it reaches every tenant: a full API key, or authentication off. Only such a credential
    /// sees the node's internals (why it is not ready, what a store answered).
    public var isFullRights: Bool { confinedTenant == nil }
}
