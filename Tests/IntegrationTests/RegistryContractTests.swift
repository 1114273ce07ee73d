import Foundation
import SSEFanout
import Testing

/// What every registry must do beyond presence (which `PresenceContractTests` holds them to): the same
/// tests against `InProcessRegistry` and `RedisRegistry` (a key prefix of its own on the test Redis).
@Suite struct RegistryContractTests {
    private static func node(_ id: String) -> NodeRecord {
        NodeRecord(nodeID: id, bootID: "boot-\(id)", host: "127.0.0.1", port: 8080, startedAt: 1_700_000_000_000)
    }

    /// Each kind of address a connection has finds the nodes that joined it, and none once they left.
    @Test(arguments: RegistryKind.allCases)
    func everyAddressKindFindsTheNodesThatJoinedIt(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            let a = ConnectionRecord.test("a", node: "n1", user: "alice", tenant: "acme", session: "s1", clientID: "phone", channels: ["news"])
            let b = ConnectionRecord.test("b", node: "n2", user: "alice", tenant: "acme", session: "s2", channels: ["news", "sports"])
            try await registry.register(a, joined: a.addresses)
            try await registry.register(b, joined: b.addresses)
            let addresses: [Address] = [
                .user("alice", tenant: "acme"), .session("s1", tenant: "acme"), .session("s2", tenant: "acme"),
                .client(user: "alice", id: "phone", tenant: "acme"), .tenant("acme"), .channel("news", tenant: "acme"),
                .channel("sports", tenant: "acme"), .connection("a"), .connection("b"),
                // The same names in another tenant, and names nobody has.
                .user("alice"), .channel("news"), .tenant("other"), .user("bob", tenant: "acme"), .connection("nobody"),
            ]
            #expect(try await registry.nodes(for: addresses) == [
                ["n1", "n2"], ["n1"], ["n2"], ["n1"], ["n1", "n2"], ["n1", "n2"], ["n2"], ["n1"], ["n2"], [], [], [], [], [],
            ])
            try await registry.unregister(a, left: a.addresses)
            #expect(try await registry.nodes(for: addresses) == [
                ["n2"], [], ["n2"], [], ["n2"], ["n2"], ["n2"], [], ["n2"], [], [], [], [], [],
            ])
            try await registry.unregister(b, left: b.addresses)
            #expect(try await registry.nodes(for: addresses).allSatisfy(\.isEmpty))
        }
    }

    /// `joined` and `left` are the node's word: its second stream for an address joins nothing, and it
    /// stays for the address until the stream it names as the last one leaves.
    @Test(arguments: RegistryKind.allCases)
    func aNodeHoldsAnAddressFromItsFirstStreamToItsLast(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            let first = ConnectionRecord.test("c1", node: "n1", user: "alice", channels: ["news"])
            let second = ConnectionRecord.test("c2", node: "n1", user: "bob", channels: ["news"])
            try await registry.register(first, joined: first.addresses)
            try await registry.register(second, joined: [.user("bob")])
            try await registry.unregister(first, left: [.user("alice")])
            #expect(try await registry.nodes(for: [.channel("news"), .user("alice"), .user("bob")]) == [["n1"], [], ["n1"]])
            try await registry.unregister(second, left: second.addresses)
            #expect(try await registry.nodes(for: [.channel("news"), .user("bob")]) == [[], []])
        }
    }

    /// A broadcast goes to the nodes whose lease is current, however often a batch names it.
    @Test(arguments: RegistryKind.allCases)
    func aBroadcastFindsTheLiveNodes(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            #expect(try await registry.nodes(for: .broadcast) == [])
            try await registry.registerNode(Self.node("n1"), lease: .seconds(60))
            try await registry.registerNode(Self.node("n2"), lease: .seconds(60))
            try await registry.registerNode(Self.node("n3"), lease: .milliseconds(1))
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await registry.nodes(for: [.broadcast, .user("alice"), .broadcast]) == [["n1", "n2"], [], ["n1", "n2"]])
            try await registry.unregisterNode("n2")
            #expect(try await registry.nodes(for: .broadcast) == ["n1"])
        }
    }

    /// A lease says whether the node was still known, lists it as live while it runs, as expired once
    /// it ran out (after the grace asked for), and neither once unregistered. Lists are sorted by id.
    @Test(arguments: RegistryKind.allCases)
    func nodeLeasesRunOutUnlessRenewed(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            #expect(try await !registry.registerNode(Self.node("nb"), lease: .seconds(30)), "a new node was not known")
            #expect(try await registry.registerNode(Self.node("nb"), lease: .seconds(30)), "a renewal finds its lease")
            // A longer lease than nb's: the lists are in id order, not lease order.
            try await registry.registerNode(Self.node("na"), lease: .seconds(60))
            try await registry.registerNode(Self.node("nc"), lease: .milliseconds(1))
            try await registry.registerNode(Self.node("nd"), lease: .milliseconds(1))
            try await Task.sleep(for: .milliseconds(60))
            #expect(try await registry.liveNodes() == ["na", "nb"])
            #expect(try await registry.expiredNodes(before: .zero) == ["nc", "nd"])
            #expect(try await registry.expiredNodes(before: .seconds(60)) == [], "not expired for that long")

            #expect(try await !registry.registerNode(Self.node("nc"), lease: .seconds(60)), "a lease that ran out is gone")
            #expect(try await registry.liveNodes() == ["na", "nb", "nc"])
            try await registry.unregisterNode("nb")
            try await registry.unregisterNode("nd")
            #expect(try await registry.liveNodes() == ["na", "nc"])
            #expect(try await registry.expiredNodes(before: .zero) == [])
            #expect(try await !registry.registerNode(Self.node("nb"), lease: .seconds(60)), "an unregistered node is not known")
        }
    }

    /// A connection reads back as it was registered, by its id and among its node's, until it is unregistered.
    @Test(arguments: RegistryKind.allCases)
    func connectionsReadBackAsRegistered(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            let a = ConnectionRecord.test("a", node: "n1", user: "alice", tenant: "acme", session: "s1", clientID: "phone", channels: ["news", "a/b"])
            var b = ConnectionRecord.test("b", node: "n1", channels: ["news"])
            b.expiresAt = 1_700_000_360_000
            let c = ConnectionRecord.test("c", node: "n2", user: "carol")
            for record in [a, b, c] { try await registry.register(record, joined: record.addresses) }

            #expect(try await registry.connection("a") == a)
            #expect(try await registry.connection("b") == b)
            #expect(try await registry.connection("nobody") == nil)
            #expect(Set(try await registry.connections(ofNode: "n1")) == [a, b])
            #expect(try await registry.connections(ofNode: "n2") == [c])
            #expect(try await registry.connections(ofNode: "n3") == [])

            // Registered again (its node registers its streams again after Redis lost them): the same.
            try await registry.register(a, joined: a.addresses)
            #expect(try await registry.connection("a") == a)
            try await registry.unregister(a, left: a.addresses)
            #expect(try await registry.connection("a") == nil)
            #expect(try await registry.connections(ofNode: "n1") == [b])
        }
    }

    /// Removing a node's entries takes its connections and its address memberships, and nothing of
    /// other nodes; each removal says what it changed, and a second removal finds nothing.
    @Test(arguments: RegistryKind.allCases)
    func removingANodesEntriesTakesOnlyWhatItHeld(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            let a = ConnectionRecord.test("a", node: "n1", user: "alice", channels: ["news"])
            let b = ConnectionRecord.test("b", node: "n1", user: "bob", channels: ["sports"])
            let c = ConnectionRecord.test("c", node: "n2", user: "alice", channels: ["sports"])
            for record in [a, b, c] { try await registry.register(record, joined: record.addresses) }

            let removed = try await registry.removeEntries(ofNode: "n1")
            #expect(Set(removed.map(\.record)) == [a, b])
            let changeOfA = try #require(removed.first { $0.record == a }?.change)
            let changeOfB = try #require(removed.first { $0.record == b }?.change)
            #expect(!changeOfA.userTransition && changeOfA.channels == ["news"], "alice is still on n2; news is vacated")
            #expect(changeOfB.userTransition && changeOfB.channels.isEmpty, "bob went offline; sports keeps alice's c on n2")
            #expect(try await registry.nodes(for: [.user("alice"), .user("bob"), .channel("news"), .channel("sports"), .connection("a")])
                == [["n2"], [], [], ["n2"], []])
            #expect(try await registry.connections(ofNode: "n1") == [])
            #expect(try await registry.connection("c") == c)
            #expect(try await registry.removeEntries(ofNode: "n1") == [])
        }
    }

    /// A reaper's removal (`expiredFor`) leaves a node whose lease is current as it is, its address
    /// memberships included.
    @Test(arguments: RegistryKind.allCases)
    func aReaperLeavesALiveNodesAddressesBe(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            let a = ConnectionRecord.test("a", node: "n1", user: "alice", channels: ["news"])
            try await registry.register(a, joined: a.addresses)
            try await registry.registerNode(Self.node("n1"), lease: .seconds(60))
            #expect(try await registry.removeEntries(ofNode: "n1", expiredFor: .zero) == [])
            #expect(try await registry.nodes(for: [.user("alice"), .channel("news"), .connection("a")]) == [["n1"], ["n1"], ["n1"]])
            #expect(try await registry.connections(ofNode: "n1") == [a])
        }
    }

    /// A bar is kept until its time, replaced when saved again under its key, and loaded by anyone;
    /// one whose time is past is not loaded.
    @Test(arguments: RegistryKind.allCases)
    func barsAreKeptUntilTheirTime(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            #expect(try await registry.loadBars() == [])
            try await registry.saveBar("user:alice", body: Array("alice".utf8), until: now + 60_000)
            try await registry.saveBar("session:s1", body: Array("s1".utf8), until: now + 60_000)
            try await registry.saveBar("client:phone", body: [0, 255, 10], until: now + 60_000)
            try await registry.saveBar("client:tablet", body: Array("over".utf8), until: now - 1000)
            // Redis keeps a bar whose time is past for a millisecond.
            try await Task.sleep(for: .milliseconds(5))
            let saved = Set(try await registry.loadBars())
            #expect(saved == [Array("alice".utf8), Array("s1".utf8), [0, 255, 10]])
            try await registry.saveBar("user:alice", body: Array("alice again".utf8), until: now + 60_000)
            let replaced = Set(try await registry.loadBars())
            #expect(replaced == [Array("alice again".utf8), Array("s1".utf8), [0, 255, 10]])
        }
    }

    /// A registry whose store is reachable is ready once it reached it (a Redis client connects on its
    /// first command, and says "not connected yet" before).
    @Test(arguments: RegistryKind.allCases)
    func aReachableStoreIsReady(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            _ = try await registry.liveNodes()
            try await registry.checkReady()
        }
    }

    /// `apply` and `nodes(for:)` never complete inside the caller's own call, whatever they are asked:
    /// a caller on an event loop, or holding a lock, must not be re-entered.
    @Test(arguments: RegistryKind.allCases)
    func completionsNeverRunInsideTheCall(_ kind: RegistryKind) async throws {
        try await kind.make().use { registry in
            let a = ConnectionRecord.test("a", node: "n1", user: "alice", channels: ["news"])
            let writes: [[RegistryWrite]] = [[], [.register(a, joined: a.addresses)], [.register(a, joined: [])], [.unregister(a, left: a.addresses)]]
            for batch in writes {
                let (outcomes, inside) = await CompletionProbe.call { registry.apply(batch, completion: $0) }
                #expect(!inside, "apply(\(batch.count) writes) completed inside the call")
                #expect(outcomes.count == batch.count)
            }
            try await registry.registerNode(Self.node("n1"), lease: .seconds(60))
            let lookups: [[Address]] = [[], [.user("alice")], [.broadcast], [.connection("a"), .channel("news")]]
            for addresses in lookups {
                let (found, inside) = await CompletionProbe.call { registry.nodes(for: addresses, completion: $0) }
                #expect(!inside, "nodes(for: \(addresses)) completed inside the call")
                let nodes = try found.get()
                #expect(nodes.count == addresses.count)
            }
        }
    }
}
