/// The presence indexes of `InProcessRegistry`, kept as `RegistryScript` keeps them in Redis, so
/// that both registries answer the same (the contract tests run against both).
struct PresenceIndex {
    /// Connection ids per user, session and channel address, and per tenant (`Address.tenant`).
    private var connections: [Address: Set<String>] = [:]
    /// Users online per tenant, and per channel.
    private var users: [Address: Set<String>] = [:]
    /// Tenant → user → online since (ms).
    private var since: [String: [String: Int64]] = [:]
    private var sequence: Int64 = 0

    mutating func add(_ record: ConnectionRecord) -> PresenceChange {
        let id = record.connectionID
        let scope = Address.tenant(record.tenant)
        guard connections[scope, default: []].insert(id).inserted else { return .unchanged }
        let user = record.user
        var change = PresenceChange(sequence: 0)
        for address in record.addresses where address.kind.presence.contains(.indexed) {
            connections[address, default: []].insert(id)
            if let user, address.kind.presence.contains(.listsUsers) { users[address, default: []].insert(user) }
            if address.kind.occupancyEvents != nil, connections[address]?.count == 1 { change.occupancy.append(address) }
        }
        if let user {
            users[scope, default: []].insert(user)
            // Set when the user came online; kept while they stay.
            if since[record.tenant]?[user] == nil { since[record.tenant, default: [:]][user] = record.connectedAt }
        }
        sequence += 1
        change.sequence = sequence
        return change
    }

    mutating func remove(_ record: ConnectionRecord) -> PresenceChange {
        let id = record.connectionID
        let scope = Address.tenant(record.tenant)
        guard Self.remove(id, from: scope, in: &connections) else { return .unchanged }
        var change = PresenceChange(sequence: 0)
        for address in record.addresses where address.kind.presence.contains(.indexed) {
            Self.remove(id, from: address, in: &connections)
            if address.kind.occupancyEvents != nil, connections[address] == nil { change.occupancy.append(address) }
        }
        if let userAddress = record.address(.user) {
            let user = userAddress.id
            let mine = connections[userAddress] ?? []
            if mine.isEmpty {
                Self.remove(user, from: scope, in: &users)
                since[record.tenant]?.removeValue(forKey: user)
                if since[record.tenant]?.isEmpty == true { since.removeValue(forKey: record.tenant) }
            }
            // A scope keeps listing the user while another of their connections is in it.
            for address in record.addresses where address.kind.presence.contains(.listsUsers) {
                if !(connections[address] ?? []).contains(where: mine.contains) { Self.remove(user, from: address, in: &users) }
            }
        }
        sequence += 1
        change.sequence = sequence
        return change
    }

    /// Members of `scope`'s users (a tenant or a channel) after `after`, at most `limit`, in byte order,
    /// and whether more follow.
    func users(in scope: Address, after: String?, limit: Int) -> (members: [String], more: Bool) {
        Self.page(users[scope] ?? [], after: after, limit: limit)
    }

    func connections(of address: Address, after: String?, limit: Int) -> (members: [String], more: Bool) {
        Self.page(connections[address] ?? [], after: after, limit: limit)
    }

    func connectionCount(of address: Address) -> Int { connections[address]?.count ?? 0 }

    /// How many users `scope` (a tenant or a channel) holds.
    func userCount(in scope: Address) -> Int { users[scope]?.count ?? 0 }

    /// Names of the occupied channels of `tenant` that start with `prefix`, after `after`, at most
    /// `limit`, in byte order, and whether more follow.
    func channels(in tenant: String, prefix: String, after: String?, limit: Int) -> (members: [String], more: Bool) {
        let names = users.keys.filter { $0.kind == .channel && $0.tenant == tenant && $0.id.hasPrefix(prefix) }.map(\.id)
        return Self.page(Set(names), after: after, limit: limit)
    }

    /// How many connections `user` has subscribed to `channel`.
    func connectionCount(of user: Address, in channel: Address) -> Int {
        guard let mine = connections[user], let subscribed = connections[channel] else { return 0 }
        return mine.count <= subscribed.count ? mine.filter(subscribed.contains).count : subscribed.filter(mine.contains).count
    }

    func onlineSince(_ user: String, tenant: String) -> Int64? { since[tenant]?[user] }

    @discardableResult
    private static func remove(_ member: String, from key: Address, in sets: inout [Address: Set<String>]) -> Bool {
        guard sets[key]?.remove(member) != nil else { return false }
        if sets[key]?.isEmpty == true { sets.removeValue(forKey: key) }
        return true
    }

    /// The `limit` smallest members after `after`, in UTF-8 byte order (Redis's order), without sorting
    /// the whole set: one pass keeping the best `limit + 1` seen.
    static func page(_ members: Set<String>, after: String?, limit: Int) -> (members: [String], more: Bool) {
        var best: [String] = []
        best.reserveCapacity(limit + 1)
        for member in members {
            if let after, !precedes(after, member) { continue }
            if best.count == limit + 1 {
                guard precedes(member, best[limit]) else { continue }
                best.removeLast()
            }
            let slot = insertionPoint(of: member, in: best)
            best.insert(member, at: slot)
        }
        return (Array(best.prefix(limit)), best.count > limit)
    }

    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private static func insertionPoint(of member: String, in sorted: [String]) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(sorted[middle], member) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
