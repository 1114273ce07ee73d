/// A running node as the registry knows it. `bootID` tells incarnations on the same node id apart.
public struct NodeRecord: Sendable, Hashable, Codable {
    public var nodeID: String
    public var bootID: String
    public var host: String
    public var port: Int
    /// Milliseconds since 1970.
    public var startedAt: Int64
    /// What the node counted up to its last lease renewal (nil with metrics off).
    public var totals: NodeTotals?

    public init(nodeID: String, bootID: String, host: String, port: Int, startedAt: Int64) {
        self.nodeID = nodeID
        self.bootID = bootID
        self.host = host
        self.port = port
        self.startedAt = startedAt
    }
}
