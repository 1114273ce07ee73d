/// One user's presence: online or not, and their connections.
public struct UserPresence: Sendable, Hashable {
    public var user: String
    public var tenant: String
    /// When their current online spell began (ms since 1970); nil while offline.
    public var onlineSince: Int64?
    public var connections: [ConnectionRecord]

    public init(user: String, tenant: String, onlineSince: Int64?, connections: [ConnectionRecord]) {
        self.user = user
        self.tenant = tenant
        self.onlineSince = onlineSince
        self.connections = connections
    }

    public var online: Bool { onlineSince != nil || !connections.isEmpty }
}
