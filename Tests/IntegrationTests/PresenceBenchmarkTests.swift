import Foundation
import SSEFanout
import Testing

/// How long a presence page takes with 100,000 connections registered: the records go straight
/// through `RedisRegistry.apply` (as a node's registration queue sends them, 256 per pipeline), then
/// each route is asked many times and the median printed. Off by default (it fills the test Redis for
/// a minute): `PRESENCE_BENCH=1 swift test --filter PresenceBenchmarkTests`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PRESENCE_BENCH"] != nil))
struct PresenceBenchmarkTests {
    static let connections = Int(ProcessInfo.processInfo.environment["PRESENCE_BENCH_CONNECTIONS"] ?? "") ?? 100_000
    static let rounds = 25

    @Test func presencePagesWith100kConnections() async throws {
        let store = try RegistryKind.redis.make()
        let registry = store.registry
        let users = Self.connections / 2
        let clock = ContinuousClock()
        // 50,000 users with two connections each, on 4 nodes, each in 2 of 200 channels, one session per user.
        let started = clock.now
        var batch: [RegistryWrite] = []
        for index in 0..<Self.connections {
            let user = index % users
            let record = ConnectionRecord(connectionID: String(format: "c%07d-%@", index, UUID().uuidString.prefix(8).description), nodeID: "bench-\(index % 4)", connectedAt: 1_700_000_000_000 + Int64(index), addresses: ConnectionRecord.addresses(user: "user-\(user)", clientID: "tab-\(index / users)", session: "s-\(user)", channels: ["ch-\(index % 200)", "ch-\((index / 200) % 200)"]))
            batch.append(.register(record, joined: []))
            if batch.count == 256 || index == Self.connections - 1 {
                for outcome in await registry.apply(batch) { _ = try outcome.get() }
                batch = []
            }
        }
        let registering = clock.now - started
        print("presence bench: registered \(Self.connections) connections in \(registering) (\(Int(Double(Self.connections) / registering.seconds))/s)")

        var results: [(String, Duration, Int)] = []
        for (name, uri) in [
            ("users, first page (100)", "/presence/users"),
            ("users, a middle page (100)", "/presence/users?cursor=\(Self.cursor("user-5000"))"),
            ("users, 1000", "/presence/users?limit=1000"),
            ("users in a channel (100)", "/presence/users?channel=ch-7"),
            ("one user", "/presence/users/user-4242"),
            ("connections, first page (100)", "/presence/connections"),
            ("connections, a middle page (100)", "/presence/connections?cursor=\(Self.cursor("c0050000"))"),
            ("connections, 1000", "/presence/connections?limit=1000"),
            ("connections of a channel (100)", "/presence/connections?channel=ch-7"),
            ("connections of a user", "/presence/connections?user=user-4242"),
            ("connections by session", "/presence/connections?session=s-4242"),
            ("connections, channel and user", "/presence/connections?channel=ch-42&user=user-4242"),
        ] {
            var times: [Duration] = []
            var bytes = 0
            for _ in 0..<Self.rounds {
                let start = clock.now
                let (status, body) = await PresenceRoutes.answer(uri: uri, presence: registry)
                times.append(clock.now - start)
                #expect(status == .ok, "\(uri)")
                bytes = body.count
            }
            times.sort()
            results.append((name, times[times.count / 2], bytes))
        }
        for (name, median, bytes) in results {
            print("presence bench: \(name): median \(Self.millis(median)) ms over \(Self.rounds) (\(bytes) bytes)")
        }

        // Reaping one node's 25,000 connections (and reporting each close and offline).
        let reapStart = clock.now
        let removed = try await registry.removeEntries(ofNode: "bench-0")
        let reaping = clock.now - reapStart
        print("presence bench: reaped \(removed.count) connections of one node in \(reaping)")
        #expect(removed.count == Self.connections / 4)
        await store.close()
    }

    private static func cursor(_ member: String) -> String {
        Data(member.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func millis(_ duration: Duration) -> String {
        String(format: "%.2f", duration.seconds * 1000)
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
