/// A node as the admin page shows it: its registry record, when its lease runs out, and how many
/// streams it has registered.
public struct NodeStatus: Sendable, Hashable {
    public var nodeID: String
    /// nil when the record expired while the lease entry was still there (the node is dying).
    public var record: NodeRecord?
    /// Milliseconds since 1970.
    public var leaseExpiresAt: Int64
    public var connections: Int
}
