import Redis

/// A store made by a contract suite's factory (`RegistryKind`, `HistoryKind`), with what its test needs
/// to clean up after it: for a Redis one, its client and the key prefix it alone uses on the shared
/// test Redis, so that tests running at the same time never see each other's keys.
struct TestStore<Store: Sendable>: Sendable {
    let store: Store
    let redis: RedisClient?
    let prefix: String

    /// A prefix no other test uses, ending in `:`.
    static func uniquePrefix(_ label: String) -> String { "\(TestEnvironment.uniqueName(label)):" }

    /// Runs `body` with the store, then closes it, also when `body` throws.
    func use(_ body: (Store) async throws -> Void) async throws {
        try await TestEnvironment.run({ try await body(store) }, thenAlways: close)
    }

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

    /// Keys left under the prefix (an in-process store has none).
    func keys() async throws -> [String] {
        guard let redis else { return [] }
        return (try await redis.command(["KEYS", "\(prefix)*"]).array ?? []).compactMap(\.string)
    }
}
