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
    /// those removed when it ends. An address's set of nodes changes only with the node's first
    /// stream for it and its last, so 10,000 subscribers of a channel on one node cost one member.
    private func commands(for write: RegistryWrite) -> [[String]] {
        switch write {
        case .register(let connection, let joined):
            let id = connection.connectionID
            let node = connection.nodeID
            // What JSONEncoder wrote (slashes escaped), without its cost on every new stream.
            var channels = ""
            JSONBody.appendStrings(connection.channels, to: &channels, escapingSlashes: true)
            var commands: [[String]] = [[
                "HSET", keys.connection(id), "node", node, "user", connection.user ?? "", "tenant", connection.tenant,
                "session", connection.session ?? "", "clientId", connection.clientID ?? "", "channels", channels,
                "connectedAt", String(connection.connectedAt),
            ]]
            commands.append(["SADD", keys.nodeConnections(node), id])
            for address in joined {
                commands.append(["SADD", keys.address(address), node])
                commands.append(["SADD", keys.nodeAddresses(node), address.key])
            }
            return commands
        case .unregister(let connection, let left):
            let id = connection.connectionID
            let node = connection.nodeID
            var commands: [[String]] = [["DEL", keys.connection(id)], ["SREM", keys.nodeConnections(node), id]]
            for address in left {
                commands.append(["SREM", keys.address(address), node])
                commands.append(["SREM", keys.nodeAddresses(node), address.key])
            }
            return commands
        }
    }

    public func removeEntries(ofNode nodeID: String) async throws {
        let replies = try await client.pipeline([
            ["SMEMBERS", keys.nodeConnections(nodeID)],
            ["SMEMBERS", keys.nodeAddresses(nodeID)],
        ])
        try replies.throwingFirstError()
        let connectionIDs = (replies[0].array ?? []).compactMap(\.string)
        let addressKeys = (replies[1].array ?? []).compactMap(\.string)
        var commands: [[String]] = []
        if !connectionIDs.isEmpty {
            let owners = try await client.pipeline(connectionIDs.map { ["HGET", keys.connection($0), "node"] })
            for (id, owner) in zip(connectionIDs, owners) {
                // Only entries that still point at this node: the connection may have been re-registered elsewhere.
                guard owner.string == nil || owner.string == nodeID else { continue }
                commands.append(["DEL", keys.connection(id)])
            }
        }
        for key in addressKeys {
            commands.append(["SREM", keys.address(key: key), nodeID])
        }
        commands.append(["DEL", keys.nodeConnections(nodeID), keys.nodeAddresses(nodeID)])
        try await client.pipeline(commands).throwingFirstError()
    }

    /// One pipeline for all addresses (a broadcast's live nodes are read once), answered on the client's thread.
    public func nodes(for addresses: [Address], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void) {
        var commands: [[String]] = []
        commands.reserveCapacity(addresses.count)
        var broadcastIndex: Int?
        let indexes = addresses.map { address -> Int in
            switch address.kind {
            case .broadcast:
                if let broadcastIndex { return broadcastIndex }
                commands.append(["ZRANGEBYSCORE", keys.nodes, String(Self.nowMillis()), "+inf"])
                broadcastIndex = commands.count - 1
            case .connection: commands.append(["HGET", keys.connection(address.id), "node"])
            default: commands.append(["SMEMBERS", keys.address(address)])
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

    public func saveBar(_ key: String, body: [UInt8], until: Int64) async throws {
        let millis = max(1, until - Self.nowMillis())
        let command = [Array("SET".utf8), Array(keys.bar(key).utf8), body, Array("PX".utf8), Array(String(millis).utf8)]
        try await client.pipeline(bytes: [command]).throwingFirstError()
    }

    public func loadBars() async throws -> [[UInt8]] {
        var cursor = "0"
        var keys: [String] = []
        repeat {
            let reply = try await client.command(["SCAN", cursor, "MATCH", self.keys.bar("*"), "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2 else { break }
            cursor = parts[0].string ?? "0"
            keys += (parts[1].array ?? []).compactMap(\.string)
        } while cursor != "0"
        guard !keys.isEmpty else { return [] }
        return (try await client.command(["MGET"] + keys).array ?? []).compactMap(\.bytes)
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
