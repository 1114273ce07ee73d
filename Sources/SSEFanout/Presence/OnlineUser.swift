/// A user with at least one open connection somewhere in the cluster.
public struct OnlineUser: Sendable, Hashable {
    public var user: String
    /// Their open connections (in a channel listing: those subscribed to the channel).
    public var connections: Int
    /// When their current online spell began: the opening of the first of their connections (ms since 1970).
    public var onlineSince: Int64

    public init(user: String, connections: Int, onlineSince: Int64) {
        self.user = user
        self.connections = connections
        self.onlineSince = onlineSince
    }
}
