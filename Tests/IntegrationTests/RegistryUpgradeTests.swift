import Foundation
import SSEFanout
import Testing

/// A cluster in a rolling upgrade holds connection hashes of the previous release (no `addresses`,
/// the identity in `user`, `tenant`, `session`, `clientId` and `channels`) beside new ones: presence
/// reads them, and the reaper removes them from every index.
@Suite struct RegistryUpgradeTests {
    /// Rewrites the hash of `record` as the previous release wrote it.
    private static func writePreviousRelease(_ record: ConnectionRecord, _ store: TestRegistry) async throws {
        let redis = try #require(store.redis)
        let channels = "[" + record.channels.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let key = "\(store.prefix)conn:\(record.connectionID)"
        try await redis.pipeline([
            ["DEL", key],
            [
                "HSET", key, "node", record.nodeID, "user", record.user ?? "", "tenant", record.tenant, "session", record.session ?? "",
                "clientId", record.clientID ?? "", "channels", channels, "connectedAt", String(record.connectedAt),
            ],
        ]).throwingFirstError()
    }

    @Test func aHashOfThePreviousReleaseIsReadAndReapedWhole() async throws {
        let store = try RegistryKind.redis.make()
        let registry = store.registry
        let old = ConnectionRecord.test("old", node: "dead", user: "alice", tenant: "acme", session: "s1", clientID: "phone", channels: ["news"])
        let new = ConnectionRecord.test("new", node: "dead", user: "bob", tenant: "acme", channels: ["news"])
        try await registry.register(old, joined: old.addresses)
        try await registry.register(new, joined: [])
        try await Self.writePreviousRelease(old, store)

        #expect(try await registry.userPresence("alice", tenant: "acme", limit: 10).connections == [old])
        let removed = try await registry.removeEntries(ofNode: "dead")
        #expect(Set(removed.map(\.record)) == [old, new])
        #expect(removed.first { $0.record == old }?.change.userTransition == true)
        #expect(Set(removed.flatMap(\.change.channels)) == ["news"], "the channel vacated once, by whichever went last")
        // Nothing is left of either: no index still lists them.
        #expect(try await store.keys().filter { !$0.hasSuffix("presence:seq") } == [])
        await store.close()
    }

    @Test func aNewHashKeepsThePreviousReleasesFields() async throws {
        let store = try RegistryKind.redis.make()
        let redis = try #require(store.redis)
        let record = ConnectionRecord.test("c1", user: "alice", tenant: "acme", session: "s1", clientID: "phone", channels: ["news", "a/b"])
        try await store.registry.register(record, joined: record.addresses)
        let fields = try await redis.command(["HMGET", "\(store.prefix)conn:c1", "user", "tenant", "session", "clientId", "channels"])
        #expect(fields.array?.compactMap(\.string) == ["alice", "acme", "s1", "phone", #"["news","a\/b"]"#])
        await store.close()
    }
}
