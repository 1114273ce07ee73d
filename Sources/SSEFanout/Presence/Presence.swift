/// Who is online, cluster-wide, read from the registry's presence indexes (README, "Presence").
///
/// Listings are paged by cursor: `after` is the last item of the previous page (nil for the first),
/// and items come in byte order of their id. A page costs what its items cost, not what the whole
/// listing does, and paging while connections come and go never lists an item twice nor misses one
/// that stayed the whole time. These are housekeeping reads: async, off the stream path.
public protocol Presence: Sendable {
    /// Users online in a tenant, or, with `channel`, users with a connection subscribed to it.
    func onlineUsers(tenant: String, channel: String?, after: String?, limit: Int) async throws -> PresencePage<OnlineUser>
    /// One user: whether online, since when, and their connections (at most `limit`, in id order).
    func userPresence(_ user: String, tenant: String, limit: Int) async throws -> UserPresence
    /// Connections of a tenant, narrowed by `filter`.
    func connections(_ filter: ConnectionFilter, after: String?, limit: Int) async throws -> PresencePage<ConnectionRecord>
}
