import Foundation
import Redis

extension RedisRegistry {
    /// `sse:nodes` (lease expiries) with each node's record (`sse:node:<id>`) and the size of its
    /// connection set: one `ZRANGE` and one pipeline.
    public func nodeStatuses(limit: Int) async throws -> [NodeStatus] {
        let reply = try await client.command(["ZRANGE", keys.nodes, "0", String(max(limit, 1) - 1), "WITHSCORES"])
        let flat = reply.array ?? []
        var leases: [(nodeID: String, expiry: Int64)] = []
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            guard let nodeID = flat[index].string, let score = flat[index + 1].string.flatMap(Double.init) else { continue }
            leases.append((nodeID, Int64(score)))
        }
        guard !leases.isEmpty else { return [] }
        let replies = try await client.pipeline(leases.flatMap { lease in
            [["GET", keys.node(lease.nodeID)], ["SCARD", keys.nodeConnections(lease.nodeID)]]
        })
        try replies.throwingFirstError()
        return leases.enumerated().map { index, lease in
            let record = replies[2 * index].bytes.flatMap { try? JSONDecoder().decode(NodeRecord.self, from: Data($0)) }
            return NodeStatus(nodeID: lease.nodeID, record: record, leaseExpiresAt: lease.expiry, connections: Int(replies[2 * index + 1].int ?? 0))
        }
    }

    /// `SCAN` steps over the channels' user sets (`sse:presence:users:channel…`), then their sizes.
    /// There is no index of channels: a page walks the keyspace, at most `scanSteps` steps of
    /// `COUNT max(10 × limit, 1000)` keys, until it found `limit` channels, so its cost is bounded but
    /// grows with the keyspace, its cursor is Redis's, and a page may come back short with a cursor.
    public func channels(tenant: String, prefix: String, cursor: String?, limit: Int) async throws -> PresencePage<ChannelSummary> {
        let scope = keys.presenceUsers(.channel("", tenant: tenant))
        let pattern = Self.globEscaped(scope + prefix) + "*"
        var next = cursor ?? "0"
        var found: Set<String> = []
        for _ in 0..<Self.scanSteps {
            let reply = try await client.command(["SCAN", next, "MATCH", pattern, "COUNT", String(max(limit * 10, 1000))])
            try [reply].throwingFirstError()
            let parts = reply.array ?? []
            next = parts.first?.string ?? "0"
            for key in (parts.count > 1 ? parts[1].array ?? [] : []).compactMap(\.string) where key.hasPrefix(scope) { found.insert(key) }
            if next == "0" || found.count >= limit { break }
        }
        let sorted = found.sorted()
        guard !sorted.isEmpty else { return PresencePage(items: [], next: next == "0" ? nil : next) }
        let sizes = try await client.pipeline(sorted.map { ["ZCARD", $0] })
        try sizes.throwingFirstError()
        let items = zip(sorted, sizes).map { key, size in ChannelSummary(channel: String(key.dropFirst(scope.count)), users: Int(size.int ?? 0)) }
        return PresencePage(items: items, next: next == "0" ? nil : next)
    }

    /// The most `SCAN` steps one page of channels takes.
    static let scanSteps = 10

    /// `text` with glob characters escaped, for `SCAN … MATCH`.
    static func globEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if "*?[]\\".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
