import Foundation
import Logging
import Redis
import SSEFanout
import Testing

/// The registries the presence contract runs against: the same tests, the same answers.
enum RegistryKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inProcess
    case redis

    var testDescription: String { rawValue }

    /// A fresh, empty registry; Redis ones get a key prefix of their own, dropped by `close`.
    func make() throws -> TestRegistry {
        switch self {
        case .inProcess:
            return TestRegistry(registry: InProcessRegistry(), redis: nil, prefix: "")
        case .redis:
            let prefix = "\(TestEnvironment.uniqueName("sse-presence")):"
            let client = try Producer.redis()
            return TestRegistry(registry: RedisRegistry(client: client, keys: RedisKeys(prefix: prefix)), redis: client, prefix: prefix)
        }
    }
}

struct TestRegistry: Sendable {
    let registry: any Registry
    let redis: RedisClient?
    let prefix: String

    /// Deletes every key under the prefix and closes the client.
    func close() async {
        guard let redis else { return }
        var cursor = "0"
        repeat {
            guard let reply = try? await redis.command(["SCAN", cursor, "MATCH", "\(prefix)*", "COUNT", "1000"]),
                  let parts = reply.array, parts.count == 2
            else { break }
            cursor = parts[0].string ?? "0"
            let keys = (parts[1].array ?? []).compactMap(\.string)
            if !keys.isEmpty { _ = try? await redis.command(["UNLINK"] + keys) }
        } while cursor != "0"
        await redis.shutdown()
    }

    /// Keys left under the prefix (the in-process registry has none).
    func keys() async throws -> [String] {
        guard let redis else { return [] }
        return (try await redis.command(["KEYS", "\(prefix)*"]).array ?? []).compactMap(\.string)
    }
}

extension ConnectionRecord {
    static func test(
        _ id: String, node: String = "n1", user: String? = nil, tenant: String = "", session: String? = nil, clientID: String? = nil,
        channels: [String] = [], connectedAt: Int64 = 1_700_000_000_000
    ) -> ConnectionRecord {
        ConnectionRecord(connectionID: id, nodeID: node, connectedAt: connectedAt, addresses: ConnectionRecord.addresses(user: user, clientID: clientID, session: session, tenant: tenant, channels: channels))
    }
}
