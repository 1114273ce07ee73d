import Redis

/// Presence read from the indexes the registry script keeps (README, "Redis key schema"). Each
/// listing is two round trips: the page of ids (`ZRANGE … BYLEX LIMIT`, O(log n + page)), then
/// what each id needs, in one pipeline.
extension RedisRegistry {
    public func onlineUsers(tenant: String, channel: String?, after: String?, limit: Int) async throws -> PresencePage<OnlineUser> {
        let scope: Address = channel.map { .channel($0, tenant: tenant) } ?? .tenant(tenant)
        let (users, more) = try await page(keys.presenceUsers(scope), after: after, limit: limit)
        guard !users.isEmpty else { return PresencePage(items: [], next: nil) }
        var commands: [[String]] = users.map { user in
            let connections = keys.presenceConnections(.user(user, tenant: tenant))
            // In a channel: the user's connections subscribed to it.
            return channel == nil ? ["ZCARD", connections] : ["ZINTERCARD", "2", connections, keys.presenceConnections(scope)]
        }
        commands.append(["HMGET", keys.presenceSince(tenant: tenant)] + users)
        let replies = try await client.pipeline(commands)
        try replies.throwingFirstError()
        let since = replies[users.count].array ?? []
        var items: [OnlineUser] = []
        for (index, user) in users.enumerated() {
            // Gone offline since the page was read.
            guard let count = replies[index].int, count > 0, index < since.count, let onlineSince = since[index].int else { continue }
            items.append(OnlineUser(user: user, connections: Int(count), onlineSince: onlineSince))
        }
        return PresencePage(items: items, next: more ? users.last : nil)
    }

    public func userPresence(_ user: String, tenant: String, limit: Int) async throws -> UserPresence {
        let replies = try await client.pipeline([
            ["ZRANGE", keys.presenceConnections(.user(user, tenant: tenant)), "-", "+", "BYLEX", "LIMIT", "0", String(limit)],
            ["HGET", keys.presenceSince(tenant: tenant), user],
        ])
        try replies.throwingFirstError()
        let ids = (replies[0].array ?? []).compactMap(\.string)
        let connections = try await records(ids).compactMap { $0 }
        return UserPresence(user: user, tenant: tenant, onlineSince: replies[1].int, connections: connections)
    }

    /// Walks the narrowest index the filter names; the other criteria are checked on each candidate,
    /// at most `max(10 × limit, 1000)` of them per page, so a page stays bounded however few match.
    public func connections(_ filter: ConnectionFilter, after: String?, limit: Int) async throws -> PresencePage<ConnectionRecord> {
        let index = keys.presenceConnections(filter.index)
        let budget = filter.isSingleCriterion ? limit : max(limit * 10, 1000)
        var items: [ConnectionRecord] = []
        var examined = 0
        var last = after
        while true {
            let wanted = filter.isSingleCriterion ? limit - items.count : min(budget - examined, max(limit, 100))
            let (ids, more) = try await page(index, after: last, limit: wanted)
            for (id, record) in zip(ids, try await records(ids)) {
                examined += 1
                last = id
                // Gone since the page was read, or not matching the other criteria.
                if let record, filter.matches(record) { items.append(record) }
                if items.count == limit { return PresencePage(items: items, next: more || id != ids.last ? id : nil) }
            }
            guard more else { return PresencePage(items: items, next: nil) }
            if examined >= budget { return PresencePage(items: items, next: last) }
        }
    }

    /// At most `limit` members after `after` in byte order, and whether more follow.
    private func page(_ key: String, after: String?, limit: Int) async throws -> (members: [String], more: Bool) {
        let start = after.map { "(" + $0 } ?? "-"
        let reply = try await client.command(["ZRANGE", key, start, "+", "BYLEX", "LIMIT", "0", String(limit + 1)])
        let members = (reply.array ?? []).compactMap(\.string)
        return (Array(members.prefix(limit)), members.count > limit)
    }

    public func connections(ofNode nodeID: String) async throws -> [ConnectionRecord] {
        let ids = (try await client.command(["SMEMBERS", keys.nodeConnections(nodeID)]).array ?? []).compactMap(\.string)
        return try await records(ids).compactMap { $0 }
    }

    public func connection(_ connectionID: String) async throws -> ConnectionRecord? {
        try await records([connectionID])[0]
    }

    /// The connections' hashes, in one pipeline; nil for one that is gone.
    func records(_ ids: [String]) async throws -> [ConnectionRecord?] {
        guard !ids.isEmpty else { return [] }
        let replies = try await client.pipeline(ids.map { ["HGETALL", keys.connection($0)] })
        try replies.throwingFirstError()
        return zip(ids, replies).map { id, reply in
            ConnectionCodec.record(id: id, fields: (reply.array ?? []).map { $0.string ?? "" })
        }
    }
}
