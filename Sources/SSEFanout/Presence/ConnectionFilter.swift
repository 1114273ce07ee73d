/// Which connections a presence listing wants: those of a tenant ("" is the default one), narrowed by
/// any of user, session and channel (all given must match).
public struct ConnectionFilter: Sendable, Hashable {
    public var tenant: String
    public var user: String?
    public var session: String?
    public var channel: String?

    public init(tenant: String = "", user: String? = nil, session: String? = nil, channel: String? = nil) {
        self.tenant = tenant
        self.user = user
        self.session = session
        self.channel = channel
    }

    /// The index a listing walks: the narrowest one given (a user has few connections, a session
    /// fewer than its tenant, ...). The other criteria are checked on each candidate.
    public var index: Address {
        if let user { return .user(user, tenant: tenant) }
        if let session { return .session(session, tenant: tenant) }
        if let channel { return .channel(channel, tenant: tenant) }
        return .tenant(tenant)
    }

    /// Whether `record` meets every criterion.
    public func matches(_ record: ConnectionRecord) -> Bool {
        record.tenant == tenant && (user == nil || record.user == user) && (session == nil || record.session == session)
            && (channel == nil || record.channels.contains(channel!))
    }

    /// Whether walking `index` already guarantees every criterion (nothing left to check).
    var isSingleCriterion: Bool {
        [user, session, channel].compactMap { $0 }.count <= 1
    }
}
