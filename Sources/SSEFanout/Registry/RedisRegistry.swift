import Foundation
import Redis

/// The registry in Redis (key schema: `RedisKeys`). Writes for one connection go in one pipeline.
public final class RedisRegistry: Registry {
    let client: RedisClient
    let keys: RedisKeys

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
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    public func expiredNodes(before grace: Duration) async throws -> [String] {
        let reply = try await client.command(["ZRANGEBYSCORE", keys.nodes, "-inf", "(\(Self.nowMillis() - Self.millis(grace))"])
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    /// Every write is one call of the registry script (`RegistryScript`), all in one pipeline: one
    /// round trip, and no thread hand-off from a caller on an event loop, for a whole batch of streams opening and
    /// closing. `completion` runs on the caller's event loop (in a task when answered at once: no writes,
    /// or the client shut down).
    public func apply(_ writes: [RegistryWrite], completion: @escaping @Sendable ([Result<PresenceChange, any Error>]) -> Void) {
        let completion = DeferredCompletion(completion)
        defer { completion.callReturned() }
        RegistryScript.script.run(writes.map(arguments(for:)), on: client) { result in
            switch result {
            case .failure(let error):
                completion(writes.map { _ in .failure(error) })
            case .success(let replies):
                completion(zip(writes, replies).map { write, reply in
                    Result { () throws(RedisError) in try Self.change(reply, of: write.record) }.mapError { $0 }
                })
            }
        }
    }

    /// A connection's entries (README, "Redis key schema"): written when its stream opens, exactly
    /// those removed when it ends. An address's set of nodes changes only with the node's first
    /// stream for it and its last, so 10,000 subscribers of a channel on one node cost one member;
    /// the presence indexes hold every connection.
    private func arguments(for write: RegistryWrite) -> [String] {
        switch write {
        case .register(let connection, let joined):
            let fields = ConnectionCodec.hashFields(connection)
            var arguments = ["r", keys.prefix, connection.connectionID, connection.nodeID, connection.tenant, String(connection.connectedAt)]
            arguments.reserveCapacity(arguments.count + fields.count + connection.addresses.count + joined.count + 2)
            arguments.append(String(fields.count))
            arguments += fields
            arguments.append(String(connection.addresses.count))
            for address in connection.addresses { arguments.append(address.key) }
            for address in joined { arguments.append(address.key) }
            return arguments
        case .unregister(let connection, let left):
            var arguments = ["u", keys.prefix, connection.connectionID, connection.nodeID, connection.tenant, String(connection.addresses.count)]
            arguments.reserveCapacity(arguments.count + connection.addresses.count + left.count)
            for address in connection.addresses { arguments.append(address.key) }
            for address in left { arguments.append(address.key) }
            return arguments
        }
    }

    /// `{sequence, addressKey…}` from the script: the addresses of `record` whose first (last)
    /// connection this was.
    private static func change(_ reply: RedisValue, of record: ConnectionRecord) throws(RedisError) -> PresenceChange {
        if case .error(let message) = reply { throw RedisError.server(message) }
        guard let parts = reply.array, let sequence = parts.first?.int else {
            throw RedisError.protocolError("the registry script answered \(reply)")
        }
        let keys = Set(parts.dropFirst().compactMap(\.string))
        return PresenceChange(sequence: sequence, occupancy: keys.isEmpty ? [] : record.addresses.filter { keys.contains($0.key) })
    }

    /// Connections are taken off the node's set a batch at a time by the script, which removes each
    /// from every index and says what that changed; then the node's address memberships go.
    public func removeEntries(ofNode nodeID: String, expiredFor: Duration?) async throws -> [RemovedConnection] {
        var removed: [RemovedConnection] = []
        let cutoff = expiredFor.map { String(Self.nowMillis() - Self.millis($0)) } ?? ""
        while true {
            let reply = try await RegistryScript.script.run(["x", keys.prefix, nodeID, String(Self.reapBatch), cutoff], on: client)
            guard let parts = reply.array, parts.count == 2, let popped = parts[0].int else {
                throw RedisError.protocolError("reaping answered \(reply)")
            }
            for entry in parts[1].array ?? [] {
                guard let parts = entry.array, parts.count == 3, let id = parts[0].string,
                      let record = ConnectionCodec.record(id: id, fields: (parts[1].array ?? []).map { $0.string ?? "" })
                else { continue }
                removed.append(RemovedConnection(record: record, change: try Self.change(parts[2], of: record)))
            }
            if popped < Self.reapBatch { break }
        }
        // Renewed meanwhile: alive, and its memberships are its own.
        if expiredFor != nil, let expiry = try await client.command(["ZSCORE", keys.nodes, nodeID]).int,
           expiry > Self.nowMillis() - Self.millis(expiredFor!) {
            return removed
        }
        let addressKeys = (try await client.command(["SMEMBERS", keys.nodeAddresses(nodeID)]).array ?? []).compactMap(\.string)
        var commands = addressKeys.map { ["SREM", keys.address(key: $0), nodeID] }
        commands.append(["DEL", keys.nodeAddresses(nodeID)])
        try await client.pipeline(commands).throwingFirstError()
        return removed
    }

    /// Connections reaped per script call: a call blocks Redis for about a millisecond per hundred.
    static let reapBatch = 500

    /// One pipeline for all addresses (a broadcast's live nodes are read once), answered on the client's
    /// thread (in a task when answered at once: no addresses, or the client shut down).
    public func nodes(for addresses: [Address], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void) {
        let completion = DeferredCompletion(completion)
        defer { completion.callReturned() }
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
