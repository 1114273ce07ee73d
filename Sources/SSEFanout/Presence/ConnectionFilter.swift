/// Which connections a presence listing wants: those of a tenant ("" is the default one) that have
/// every one of some addresses (a user, a session, a channel).
public struct ConnectionFilter: Sendable, Hashable {
    public var tenant: String
    /// What every match has, narrowest first: the listing walks the first one's index.
    public var criteria: [Address]

    public init(tenant: String = "", criteria: [Address]) {
        self.tenant = tenant
        self.criteria = criteria.map { $0.scoped(to: tenant) }
    }

    /// A user has fewer connections than a session, a session fewer than a channel: that order.
    public init(tenant: String = "", user: String? = nil, session: String? = nil, channel: String? = nil) {
        let criteria: [Address?] = [user.map { .user($0) }, session.map { .session($0) }, channel.map { .channel($0) }]
        self.init(tenant: tenant, criteria: criteria.compactMap { $0 })
    }

    /// The index a listing walks; the other criteria are checked on each candidate.
    public var index: Address { criteria.first ?? .tenant(tenant) }

    /// Whether `record` meets every criterion.
    public func matches(_ record: ConnectionRecord) -> Bool {
        record.tenant == tenant && criteria.allSatisfy(record.addresses.contains)
    }

    /// Whether walking `index` already guarantees every criterion (nothing left to check).
    var isSingleCriterion: Bool { criteria.count <= 1 }
}
