/// What the admin page lists beyond presence: the nodes and the occupied channels.
public protocol ClusterDirectory: Sendable {
    /// The nodes holding a lease (live, or dead and not yet reaped), in node id order, at most `limit`.
    func nodeStatuses(limit: Int) async throws -> [NodeStatus]
    /// Occupied channels of a tenant whose names start with `prefix`, a page at a time: pass the
    /// returned `next` as `cursor` until it is nil. A page may hold fewer than `limit` and still have a
    /// `next`, or (from Redis, whose `SCAN` steps cannot be cut short) somewhat more.
    func channels(tenant: String, prefix: String, cursor: String?, limit: Int) async throws -> PresencePage<ChannelSummary>
}
