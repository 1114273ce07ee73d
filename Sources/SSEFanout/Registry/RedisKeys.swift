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
    /// Set: the address keys a node has streams for (what its death leaves to clean).
    public func nodeAddresses(_ nodeID: String) -> String { "\(prefix)node:\(nodeID):addresses" }
    /// Hash: `node`, `user`, `tenant`, `session`, `clientId`, `channels` (JSON array), `connectedAt`.
    public func connection(_ connectionID: String) -> String { "\(prefix)conn:\(connectionID)" }
    /// String: a send's idempotency key, `pending:<send id>` while it is being sent, then `done:<send id>`
    /// (`RedisSendClaims`). The user's `%` and `:` are escaped (`%25`, `%3A`), so that no user's key can
    /// spell another's (tenants hold neither, and the key comes last).
    public func send(tenant: String, user: String, key: String) -> String {
        // Byte by byte: a `%` or `:` joined to a combining mark is still escaped.
        var escaped: [UInt8] = []
        escaped.reserveCapacity(user.utf8.count)
        for byte in user.utf8 {
            switch byte {
            case UInt8(ascii: "%"): escaped += Array("%25".utf8)
            case UInt8(ascii: ":"): escaped += Array("%3A".utf8)
            default: escaped.append(byte)
            }
        }
        return "\(prefix)send:\(tenant):\(String(decoding: escaped, as: UTF8.self)):\(key)"
    }
    /// String: a kick's control message, expiring with its bar.
    public func bar(_ key: String) -> String { "\(prefix)bar:\(key)" }
    /// Set: the node ids with at least one stream answering to the address (`Address.key`).
    public func address(_ address: Address) -> String { self.address(key: address.key) }
    public func address(key: String) -> String { "\(prefix)addr:\(key)" }

    // Presence (README, "Redis key schema"). Sorted sets whose scores are all 0 are ordered by member,
    // byte by byte, so a listing pages by "the members after the last one seen" (`ZRANGE … BYLEX`):
    // O(page), and stable while members come and go. `RedisRegistry.script` spells these in Lua too.

    /// Sorted set (scores 0): the connection ids answering to a user, session or channel address, or
    /// of a tenant (`tenant@<name>`; the default tenant's is `tenant@`), cluster-wide.
    public func presenceConnections(_ address: Address) -> String { "\(prefix)presence:conns:\(address.key)" }
    /// Sorted set (scores 0): the users online in a tenant (`tenant@<name>`), or with a connection
    /// subscribed to a channel (`channel:<name>`, `channel@<tenant>:<name>`).
    public func presenceUsers(_ scope: Address) -> String { "\(prefix)presence:users:\(scope.key)" }
    /// Hash: user → when their current online spell began (ms since 1970), per tenant.
    public func presenceSince(tenant: String) -> String { "\(prefix)presence:since:\(Address.tenant(tenant).key)" }
    /// Counter: the sequence number of the last presence change, cluster-wide.
    public var presenceSequence: String { "\(prefix)presence:seq" }
}
