import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The registry kept in this process: for the standalone mode (one node) and unit tests.
public final class InProcessRegistry: Registry {
    fileprivate struct State {
        var nodes: [String: (record: NodeRecord, expires: NIODeadline)] = [:]
        var connections: [String: ConnectionRecord] = [:]
        /// Address → nodes with streams for it.
        var addressNodes: [Address: Set<String>] = [:]
        var presence = PresenceIndex()
        /// Kick bars by key: their control message and until when (ms since 1970) they hold.
        var bars: [String: (body: [UInt8], until: Int64)] = [:]
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    public func registerNode(_ node: NodeRecord, lease: Duration) async throws -> Bool {
        let now = NIODeadline.now()
        return state.withLockedValue { state in
            let present = state.nodes[node.nodeID].map { $0.expires > now } ?? false
            state.nodes[node.nodeID] = (node, now + TimeAmount(lease))
            return present
        }
    }

    public func unregisterNode(_ nodeID: String) async throws {
        _ = state.withLockedValue { $0.nodes.removeValue(forKey: nodeID) }
    }

    public func liveNodes() async throws -> [String] {
        let now = NIODeadline.now()
        return state.withLockedValue { $0.nodes.filter { $0.value.expires > now }.map(\.key).sorted() }
    }

    public func expiredNodes(before grace: Duration) async throws -> [String] {
        let cutoff = NIODeadline.now() - TimeAmount(grace)
        return state.withLockedValue { $0.nodes.filter { $0.value.expires <= cutoff }.map(\.key).sorted() }
    }

    /// Completes from a task, like a store on another thread would: never inside the caller's own call.
    public func apply(_ writes: [RegistryWrite], completion: @escaping @Sendable ([Result<PresenceChange, any Error>]) -> Void) {
        let changes = state.withLockedValue { state in
            writes.map { write -> Result<PresenceChange, any Error> in
                switch write {
                case .register(let connection, let joined):
                    state.connections[connection.connectionID] = connection
                    for address in joined { state.addressNodes[address, default: []].insert(connection.nodeID) }
                    return .success(state.presence.add(connection))
                case .unregister(let connection, let left):
                    state.connections.removeValue(forKey: connection.connectionID)
                    for address in left { state.removeAddress(address, node: connection.nodeID) }
                    return .success(state.presence.remove(connection))
                }
            }
        }
        Task { completion(changes) }
    }

    public func removeEntries(ofNode nodeID: String, expiredFor: Duration?) async throws -> [RemovedConnection] {
        let now = NIODeadline.now()
        return state.withLockedValue { state in
            if let expiredFor, let node = state.nodes[nodeID], node.expires > now - TimeAmount(expiredFor) { return [] }
            let gone = state.connections.values.filter { $0.nodeID == nodeID }.sorted { $0.connectionID < $1.connectionID }
            var removed: [RemovedConnection] = []
            for record in gone {
                state.connections.removeValue(forKey: record.connectionID)
                let change = state.presence.remove(record)
                if change.changed { removed.append(RemovedConnection(record: record, change: change)) }
            }
            for address in state.addressNodes.keys { state.removeAddress(address, node: nodeID) }
            return removed
        }
    }

    /// Completes from a task, as `apply` does.
    public func nodes(for addresses: [Address], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void) {
        let now = NIODeadline.now()
        let found = state.withLockedValue { state in
            addresses.map { address -> Set<String> in
                switch address.kind {
                case .broadcast: Set(state.nodes.filter { $0.value.expires > now }.map(\.key))
                case .connection: state.connections[address.id].map { [$0.nodeID] } ?? []
                default: state.addressNodes[address] ?? []
                }
            }
        }
        Task { completion(.success(found)) }
    }

    /// Kept as Redis keeps them, each until its time: a node started later on this registry loads them.
    public func saveBar(_ key: String, body: [UInt8], until: Int64) async throws {
        let now = Self.nowMillis()
        state.withLockedValue { state in
            state.bars = state.bars.filter { $0.value.until > now }
            state.bars[key] = (body, until)
        }
    }

    public func loadBars() async throws -> [[UInt8]] {
        let now = Self.nowMillis()
        return state.withLockedValue { state in state.bars.filter { $0.value.until > now }.sorted { $0.key < $1.key }.map(\.value.body) }
    }

    private static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    public func checkReady() async throws {}

    public func onlineUsers(tenant: String, channel: String?, after: String?, limit: Int) async throws -> PresencePage<OnlineUser> {
        state.withLockedValue { state in
            let scope: Address = channel.map { .channel($0, tenant: tenant) } ?? .tenant(tenant)
            let (users, more) = state.presence.users(in: scope, after: after, limit: limit)
            let items = users.compactMap { user -> OnlineUser? in
                let address = Address.user(user, tenant: tenant)
                let count = channel == nil ? state.presence.connectionCount(of: address) : state.presence.connectionCount(of: address, in: scope)
                guard count > 0, let since = state.presence.onlineSince(user, tenant: tenant) else { return nil }
                return OnlineUser(user: user, connections: count, onlineSince: since)
            }
            return PresencePage(items: items, next: more ? users.last : nil)
        }
    }

    public func userPresence(_ user: String, tenant: String, limit: Int) async throws -> UserPresence {
        state.withLockedValue { state in
            let ids = state.presence.connections(of: .user(user, tenant: tenant), after: nil, limit: limit).members
            return UserPresence(
                user: user, tenant: tenant, onlineSince: state.presence.onlineSince(user, tenant: tenant),
                connections: ids.compactMap { state.connections[$0] })
        }
    }

    /// The same walk as `RedisRegistry`'s: the narrowest index, the other criteria checked on at most
    /// `max(10 × limit, 1000)` candidates per page.
    public func connections(ofNode nodeID: String) async throws -> [ConnectionRecord] {
        state.withLockedValue { state in state.connections.values.filter { $0.nodeID == nodeID } }
    }

    public func connections(_ filter: ConnectionFilter, after: String?, limit: Int) async throws -> PresencePage<ConnectionRecord> {
        state.withLockedValue { state in
            let budget = filter.isSingleCriterion ? limit : max(limit * 10, 1000)
            let (ids, more) = state.presence.connections(of: filter.index, after: after, limit: budget)
            var items: [ConnectionRecord] = []
            for id in ids {
                if let record = state.connections[id], filter.matches(record) { items.append(record) }
                if items.count == limit { return PresencePage(items: items, next: more || id != ids.last ? id : nil) }
            }
            return PresencePage(items: items, next: more ? ids.last : nil)
        }
    }

    public func connection(_ connectionID: String) async throws -> ConnectionRecord? {
        state.withLockedValue { $0.connections[connectionID] }
    }

    /// Every connection currently recorded; for tests.
    public var connections: [ConnectionRecord] { state.withLockedValue { Array($0.connections.values) } }
}

extension InProcessRegistry {
    public func nodeStatuses(limit: Int) async throws -> [NodeStatus] {
        let now = NIODeadline.now()
        let wallNow = Int64(Date().timeIntervalSince1970 * 1000)
        return state.withLockedValue { state in
            state.nodes.keys.sorted().prefix(limit).map { nodeID in
                let node = state.nodes[nodeID]!
                let leaseLeft = (node.expires - now).nanoseconds / 1_000_000
                let connections = state.connections.values.count { $0.nodeID == nodeID }
                return NodeStatus(nodeID: nodeID, record: node.record, leaseExpiresAt: wallNow + leaseLeft, connections: connections)
            }
        }
    }

    public func channels(tenant: String, prefix: String, cursor: String?, limit: Int) async throws -> PresencePage<ChannelSummary> {
        state.withLockedValue { state in
            let (names, more) = state.presence.channels(in: tenant, prefix: prefix, after: cursor, limit: limit)
            let items = names.map { ChannelSummary(channel: $0, users: state.presence.userCount(in: .channel($0, tenant: tenant))) }
            return PresencePage(items: items, next: more ? names.last : nil)
        }
    }
}

extension InProcessRegistry.State {
    fileprivate mutating func removeAddress(_ address: Address, node: String) {
        addressNodes[address]?.remove(node)
        if addressNodes[address]?.isEmpty == true { addressNodes.removeValue(forKey: address) }
    }
}
