import Foundation
import Redis

/// The registry in Redis (key schema: `RedisKeys`). Writes for one connection go in one pipeline.
public final class RedisRegistry: Registry {
    private let client: RedisClient
    private let keys: RedisKeys

    public init(client: RedisClient, keys: RedisKeys = RedisKeys()) {
        self.client = client
        self.keys = keys
    }

    public func registerNode(_ node: NodeRecord, lease: Duration) async throws -> Bool {
        let leaseMillis = Self.millis(lease)
        let json = String(decoding: try JSONEncoder().encode(node), as: UTF8.self)
        let expiry = Self.nowMillis() + leaseMillis
        let replies = try await client.pipeline([
            ["SET", keys.node(node.nodeID), json, "PX", String(leaseMillis), "GET"],
            ["ZADD", keys.nodes, String(expiry), node.nodeID],
        ])
        try replies.throwingFirstError()
        return replies[0] != .null
    }

    public func unregisterNode(_ nodeID: String) async throws {
        try await client.pipeline([
            ["DEL", keys.node(nodeID)],
            ["ZREM", keys.nodes, nodeID],
        ]).throwingFirstError()
    }

    public func liveNodes() async throws -> [String] {
        let reply = try await client.command(["ZRANGEBYSCORE", keys.nodes, String(Self.nowMillis()), "+inf"])
        return (reply.array ?? []).compactMap(\.string)
    }

    public func expiredNodes(before grace: Duration) async throws -> [String] {
        let reply = try await client.command(["ZRANGEBYSCORE", keys.nodes, "-inf", "(\(Self.nowMillis() - Self.millis(grace))"])
        return (reply.array ?? []).compactMap(\.string)
    }

    public func register(_ connection: ConnectionRecord, joinedChannels: [String]) async throws {
        try await client.pipeline(commands(for: .register(connection, joinedChannels: joinedChannels))).throwingFirstError()
    }

    public func unregister(_ connection: ConnectionRecord, leftChannels: [String]) async throws {
        try await client.pipeline(commands(for: .unregister(connection, leftChannels: leftChannels))).throwingFirstError()
    }

    /// Every write's commands in one pipeline: one round trip, and one hop to the client's thread, for
    /// a whole batch of streams opening and closing. `completion` runs on the client's thread.
    public func apply(_ writes: [RegistryWrite], completion: @escaping @Sendable ([(any Error)?]) -> Void) {
        var commands: [[String]] = []
        var ends: [Int] = []
        ends.reserveCapacity(writes.count)
        for write in writes {
            commands += self.commands(for: write)
            ends.append(commands.count)
        }
        client.pipeline(commands) { [ends] result in
            switch result {
            case .failure(let error):
                completion(writes.map { _ in error })
            case .success(let replies):
                var start = 0
                completion(ends.map { end in
                    defer { start = end }
                    do {
                        try replies[start..<end].throwingFirstError()
                        return nil
                    } catch {
                        return error
                    }
                })
            }
        }
    }

    /// A connection's entries (README, "Redis key schema"): written when its stream opens, exactly
    /// those removed when it ends.
    private func commands(for write: RegistryWrite) -> [[String]] {
        switch write {
        case .register(let connection, let joinedChannels):
            let id = connection.connectionID
            let node = connection.nodeID
            // What JSONEncoder wrote (slashes escaped), without its cost on every new stream.
            var channels = ""
            JSONBody.appendStrings(connection.channels, to: &channels, escapingSlashes: true)
            var commands: [[String]] = [[
                "HSET", keys.connection(id), "node", node, "user", connection.user ?? "",
                "clientId", connection.clientID ?? "", "channels", channels, "connectedAt", String(connection.connectedAt),
            ]]
            if let user = connection.user {
                commands.append(["HSET", keys.user(user), id, node])
            }
            commands.append(["SADD", keys.nodeConnections(node), id])
            for channel in joinedChannels {
                commands.append(["SADD", keys.channel(channel), node])
                commands.append(["SADD", keys.nodeChannels(node), channel])
            }
            return commands
        case .unregister(let connection, let leftChannels):
            let id = connection.connectionID
            let node = connection.nodeID
            var commands: [[String]] = [["DEL", keys.connection(id)]]
            if let user = connection.user {
                commands.append(["HDEL", keys.user(user), id])
            }
            commands.append(["SREM", keys.nodeConnections(node), id])
            for channel in leftChannels {
                commands.append(["SREM", keys.channel(channel), node])
                commands.append(["SREM", keys.nodeChannels(node), channel])
            }
            return commands
        }
    }

    public func removeEntries(ofNode nodeID: String) async throws {
        let connectionIDs = (try await client.command(["SMEMBERS", keys.nodeConnections(nodeID)]).array ?? []).compactMap(\.string)
        let channels = (try await client.command(["SMEMBERS", keys.nodeChannels(nodeID)]).array ?? []).compactMap(\.string)
        var commands: [[String]] = []
        if !connectionIDs.isEmpty {
            let users = try await client.pipeline(connectionIDs.map { ["HMGET", keys.connection($0), "user", "node"] })
            for (id, reply) in zip(connectionIDs, users) {
                let fields = reply.array ?? []
                // Only entries that still point at this node: the connection may have been re-registered elsewhere.
                let owner = fields.count > 1 ? fields[1].string : nil
                guard owner == nil || owner == nodeID else { continue }
                if let user = fields.first?.string, !user.isEmpty {
                    commands.append(["HDEL", keys.user(user), id])
                }
                commands.append(["DEL", keys.connection(id)])
            }
        }
        for channel in channels {
            commands.append(["SREM", keys.channel(channel), nodeID])
        }
        commands.append(["DEL", keys.nodeConnections(nodeID), keys.nodeChannels(nodeID)])
        try await client.pipeline(commands).throwingFirstError()
    }

    public func nodes(for target: Target) async throws -> Set<String> {
        try await nodes(for: [target])[0]
    }

    /// One pipeline for all of them; a broadcast looks up the live nodes once.
    public func nodes(for targets: [Target]) async throws -> [Set<String>] {
        try await withCheckedThrowingContinuation { continuation in
            nodes(for: targets) { continuation.resume(with: $0) }
        }
    }

    /// One pipeline for all targets (a broadcast's live nodes are read once), answered on the client's thread.
    public func nodes(for targets: [Target], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void) {
        var commands: [[String]] = []
        commands.reserveCapacity(targets.count)
        var broadcastIndex: Int?
        let indexes = targets.map { target -> Int in
            switch target {
            case .broadcast:
                if let broadcastIndex { return broadcastIndex }
                commands.append(["ZRANGEBYSCORE", keys.nodes, String(Self.nowMillis()), "+inf"])
                broadcastIndex = commands.count - 1
            case .connection(let id): commands.append(["HGET", keys.connection(id), "node"])
            case .user(let user): commands.append(["HVALS", keys.user(user)])
            case .channel(let name): commands.append(["SMEMBERS", keys.channel(name)])
            }
            return commands.count - 1
        }
        if commands.isEmpty { return completion(.success([])) }
        client.pipeline(commands) { [indexes] result in
            completion(Result { () throws(RedisError) in
                let replies = try result.get()
                try replies.throwingFirstError()
                return indexes.map { index in
                    let reply = replies[index]
                    if let node = reply.string { return [node] }
                    return Set((reply.array ?? []).compactMap(\.string))
                }
            }.mapError { $0 })
        }
    }

    public func checkReady() async throws {
        // A connection already known to be broken answers at once: a probe must not wait out a
        // command timeout. The PING still goes out, so that a recovered server is noticed.
        if !client.isConnected, let reason = client.lastError {
            _ = client.enqueue(["PING"])
            throw RedisError.notConnected(reason)
        }
        _ = try await client.command(["PING"])
    }

    private static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private static func millis(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
