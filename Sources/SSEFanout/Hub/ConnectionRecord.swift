/// What the cluster knows about one SSE connection: the registry stores it, the hub routes by it.
public struct ConnectionRecord: Sendable, Hashable {
    public var connectionID: String
    public var nodeID: String
    /// The authenticated (for now: declared) user, if any. Anonymous connections get channel,
    /// broadcast and connection-addressed events only.
    public var user: String?
    /// The device or tab id the client chose (`clientId`), informational.
    public var clientID: String?
    public var channels: [String]
    /// Milliseconds since 1970.
    public var connectedAt: Int64

    public init(connectionID: String, nodeID: String, user: String?, clientID: String?, channels: [String], connectedAt: Int64) {
        self.connectionID = connectionID
        self.nodeID = nodeID
        self.user = user
        self.clientID = clientID
        self.channels = channels
        self.connectedAt = connectedAt
    }
}
