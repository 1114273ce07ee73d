/// A node's running totals since it started, stamped into its registry record at every lease renewal
/// (`LeaseKeeper`), so the admin page draws publish and delivery rates and latency for the whole cluster
/// from the record of each node, not only from the node that serves it.
public struct NodeTotals: Sendable, Hashable, Codable {
    /// Events this node accepted for publishing (every target).
    public var published: Int
    /// Event × stream pairs this node wrote.
    public var delivered: Int
    /// The sum and count of delivery latencies (accepted by the routing node to written here), one per
    /// event and pass, in microseconds.
    public var latencyMicroseconds: Int
    public var latencyCount: Int
    /// When it was read, in milliseconds since 1970.
    public var at: Int64

    public init(published: Int, delivered: Int, latencyMicroseconds: Int, latencyCount: Int, at: Int64) {
        self.published = published
        self.delivered = delivered
        self.latencyMicroseconds = latencyMicroseconds
        self.latencyCount = latencyCount
        self.at = at
    }
}
