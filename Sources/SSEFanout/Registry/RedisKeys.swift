/// The Redis key schema (README, "Redis key schema"). Every key starts with `prefix` (default `sse:`).
public struct RedisKeys: Sendable {
    public var prefix: String

    public init(prefix: String = "sse:") { self.prefix = prefix }

    /// String, JSON `NodeRecord`, expires with the node's lease.
    public func node(_ nodeID: String) -> String { "\(prefix)node:\(nodeID)" }
    /// Sorted set: node id → lease expiry (ms since 1970).
    public var nodes: String { "\(prefix)nodes" }
    /// Set: the connection ids a node holds.
    public func nodeConnections(_ nodeID: String) -> String { "\(prefix)node:\(nodeID):connections" }
    /// Set: the channels a node has subscribers for.
    public func nodeChannels(_ nodeID: String) -> String { "\(prefix)node:\(nodeID):channels" }
    /// Hash: `node`, `user`, `clientId`, `channels` (JSON array), `connectedAt`.
    public func connection(_ connectionID: String) -> String { "\(prefix)conn:\(connectionID)" }
    /// Hash: connection id → node id, one field per open connection of the user.
    public func user(_ userID: String) -> String { "\(prefix)user:\(userID)" }
    /// Set: the node ids that have at least one subscriber of the channel.
    public func channel(_ name: String) -> String { "\(prefix)channel:\(name)" }
}
