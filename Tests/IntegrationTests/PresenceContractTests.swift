import Foundation
import NIOConcurrencyHelpers
import SSEFanout
import Testing

/// What every registry must answer about presence: the same tests against `InProcessRegistry` and
/// `RedisRegistry` (a key prefix of its own on the test Redis).
@Suite struct PresenceContractTests {
    @Test(arguments: RegistryKind.allCases)
    func aUsersFirstConnectionAnywhereIsOnlineAndTheirLastIsOffline(_ kind: RegistryKind) async throws {
        let store = try kind.make()
        let registry = store.registry
        let a = ConnectionRecord.test("a", node: "n1", user: "alice", channels: ["news"], connectedAt: 1000)
        let b = ConnectionRecord.test("b", node: "n2", user: "alice", channels: ["news", "sports"], connectedAt: 2000)

        let first = try await registry.register(a, joined: a.addresses)
        #expect(first.changed && first.userTransition && first.channels == ["news"])
        let second = try await registry.register(b, joined: b.addresses)
        #expect(second.changed && !second.userTransition && second.channels == ["sports"])
        #expect(second.sequence > first.sequence)

        let closeA = try await registry.unregister(a, left: a.addresses)
        #expect(closeA.changed && !closeA.userTransition && closeA.channels.isEmpty)
        let closeB = try await registry.unregister(b, left: b.addresses)
        #expect(closeB.changed && closeB.userTransition && Set(closeB.channels) == ["news", "sports"])
        #expect(closeB.sequence > closeA.sequence && closeA.sequence > second.sequence)
        // Nothing is left behind.
        #expect(try await store.keys().filter { !$0.hasSuffix("presence:seq") } == [])
        await store.close()
    }

    @Test(arguments: RegistryKind.allCases)
    func aRepeatedWriteChangesNothing(_ kind: RegistryKind) async throws {
        let store = try kind.make()
        let a = ConnectionRecord.test("a", user: "alice", channels: ["news"])
        #expect(try await store.registry.register(a, joined: a.addresses).userTransition)
        // Registered again (after a lost lease renewal): already there, no second online.
        #expect(try await store.registry.register(a, joined: a.addresses) == .unchanged)
        #expect(try await store.registry.unregister(a, left: a.addresses).userTransition)
        #expect(try await store.registry.unregister(a, left: a.addresses) == .unchanged)
        await store.close()
    }

    @Test(arguments: RegistryKind.allCases)
    func onlineUsersCountConnectionsAndKeepTheirTenantsApart(_ kind: RegistryKind) async throws {
        let store = try kind.make()
        let registry = store.registry
        let records: [ConnectionRecord] = [
            .test("c1", node: "n1", user: "bob", channels: ["news"], connectedAt: 10),
            .test("c2", node: "n2", user: "bob", connectedAt: 20),
            .test("c3", node: "n1", user: "alice", channels: ["news"], connectedAt: 30),
            .test("c4", node: "n1", user: "alice", tenant: "acme", session: "s1", connectedAt: 40),
            .test("c5", node: "n1", channels: ["news"], connectedAt: 50),  // anonymous
        ]
        for record in records { try await registry.register(record, joined: record.addresses) }

        let page = try await registry.onlineUsers(tenant: "", channel: nil, after: nil, limit: 10)
        #expect(page.items == [OnlineUser(user: "alice", connections: 1, onlineSince: 30), OnlineUser(user: "bob", connections: 2, onlineSince: 10)])
        #expect(page.next == nil)
        #expect(try await registry.onlineUsers(tenant: "acme", channel: nil, after: nil, limit: 10).items == [
            OnlineUser(user: "alice", connections: 1, onlineSince: 40)
        ])
        // In a channel: the users subscribed, with their connections subscribed to it.
        #expect(try await registry.onlineUsers(tenant: "", channel: "news", after: nil, limit: 10).items == [
            OnlineUser(user: "alice", connections: 1, onlineSince: 30), OnlineUser(user: "bob", connections: 1, onlineSince: 10),
        ])
        #expect(try await registry.onlineUsers(tenant: "acme", channel: "news", after: nil, limit: 10).items == [])

        // Bob leaves the channel but stays online.
        try await registry.unregister(records[0], left: [])
        #expect(try await registry.onlineUsers(tenant: "", channel: "news", after: nil, limit: 10).items.map(\.user) == ["alice"])
        #expect(try await registry.onlineUsers(tenant: "", channel: nil, after: nil, limit: 10).items.map(\.connections) == [1, 1])

        let bob = try await registry.userPresence("bob", tenant: "", limit: 100)
        #expect(bob.online && bob.onlineSince == 10 && bob.connections == [records[1]])
        let carol = try await registry.userPresence("carol", tenant: "", limit: 100)
        #expect(!carol.online && carol.onlineSince == nil && carol.connections.isEmpty)
        #expect(try await registry.userPresence("alice", tenant: "acme", limit: 100).connections == [records[3]])
        await store.close()
    }

    @Test(arguments: RegistryKind.allCases)
    func connectionsAreFoundByUserSessionChannelAndTenant(_ kind: RegistryKind) async throws {
        let store = try kind.make()
        let registry = store.registry
        let records: [ConnectionRecord] = [
            .test("c1", node: "n1", user: "bob", session: "s1", clientID: "phone", channels: ["news", "a/b"], connectedAt: 10),
            .test("c2", node: "n2", user: "bob", session: "s2", connectedAt: 20),
            .test("c3", node: "n1", user: "alice", session: "s1", channels: ["news"], connectedAt: 30),
            .test("c4", node: "n1", user: "bob", tenant: "acme", session: "s1", channels: ["news"], connectedAt: 40),
            .test("c5", node: "n1", channels: ["news"], connectedAt: 50),
        ]
        for record in records { try await registry.register(record, joined: record.addresses) }
        func ids(_ filter: ConnectionFilter) async throws -> [String] {
            let page = try await registry.connections(filter, after: nil, limit: 100)
            #expect(page.next == nil)
            return page.items.map(\.connectionID)
        }
        #expect(try await ids(ConnectionFilter()) == ["c1", "c2", "c3", "c5"])
        #expect(try await ids(ConnectionFilter(tenant: "acme")) == ["c4"])
        #expect(try await ids(ConnectionFilter(user: "bob")) == ["c1", "c2"])
        #expect(try await ids(ConnectionFilter(session: "s1")) == ["c1", "c3"])
        #expect(try await ids(ConnectionFilter(channel: "news")) == ["c1", "c3", "c5"])
        #expect(try await ids(ConnectionFilter(user: "bob", channel: "news")) == ["c1"])
        #expect(try await ids(ConnectionFilter(session: "s1", channel: "news")) == ["c1", "c3"])
        #expect(try await ids(ConnectionFilter(user: "alice", session: "s2")) == [])
        #expect(try await ids(ConnectionFilter(tenant: "acme", user: "bob", session: "s1", channel: "news")) == ["c4"])
        // Every field comes back as it went in.
        #expect(try await registry.connections(ConnectionFilter(channel: "a/b"), after: nil, limit: 10).items == [records[0]])
        #expect(try await registry.connections(ConnectionFilter(user: "bob"), after: nil, limit: 10).items == [records[0], records[1]])
        await store.close()
    }

    @Test(arguments: RegistryKind.allCases)
    func pagesFollowOneAnotherInByteOrder(_ kind: RegistryKind) async throws {
        let store = try kind.make()
        let registry = store.registry
        // Mixed case, digits and non-ASCII: the order is by bytes, as Redis orders members.
        let users = (0..<120).map { "u\($0 % 7 == 0 ? "Ä" : $0 % 3 == 0 ? "B" : "a")\($0)" }
        for (index, user) in users.enumerated() {
            let record = ConnectionRecord.test("c\(index)", user: user, channels: ["news"])
            try await registry.register(record, joined: record.addresses)
        }
        var listed: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await registry.onlineUsers(tenant: "", channel: nil, after: cursor, limit: 7)
            #expect(page.items.count == 7 || page.next == nil)
            listed += page.items.map(\.user)
            cursor = page.next
            pages += 1
        } while cursor != nil
        #expect(pages == 18)
        #expect(listed == users.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })

        var connections: [String] = []
        cursor = nil
        repeat {
            let page = try await registry.connections(ConnectionFilter(channel: "news"), after: cursor, limit: 50)
            connections += page.items.map(\.connectionID)
            cursor = page.next
        } while cursor != nil
        #expect(connections.count == 120 && Set(connections).count == 120)
        await store.close()
    }

    /// 2,000 connections stay registered while others come and go; paging through them with small
    /// pages lists every one that stayed exactly once, and nothing twice.
    @Test(arguments: RegistryKind.allCases)
    func pagingUnderChurnListsEveryoneWhoStayedExactlyOnce(_ kind: RegistryKind) async throws {
        let store = try kind.make()
        let registry = store.registry
        var stayed: [ConnectionRecord] = []
        for index in 0..<2000 {
            stayed.append(.test("stay-\(index)", node: "n\(index % 3)", user: "user-\(index % 700)", channels: ["news"]))
        }
        for batch in stride(from: 0, to: stayed.count, by: 250) {
            let writes = stayed[batch..<min(batch + 250, stayed.count)].map { RegistryWrite.register($0, joined: []) }
            for outcome in await registry.apply(Array(writes)) { _ = try outcome.get() }
        }
        let stayedUsers = Set(stayed.compactMap(\.user))

        let churning = NIOLockedValueBox(true)
        let churn = Task {
            var round = 0
            while churning.withLockedValue({ $0 }) {
                // Ids and users that sort before, between and after the stable ones.
                let records = (0..<40).map { index in
                    ConnectionRecord.test(
                        ["a", "stay-1", "stay-5", "z"][index % 4] + "-churn-\(round)-\(index)", node: "n9",
                        user: ["a", "user-3", "user-5", "z"][index % 4] + "-churn-\(index)", channels: ["news"])
                }
                _ = await registry.apply(records.map { .register($0, joined: []) })
                _ = await registry.apply(records.map { .unregister($0, left: []) })
                round += 1
            }
            return round
        }

        var connections: [String] = []
        var cursor: String?
        repeat {
            let page = try await registry.connections(ConnectionFilter(channel: "news"), after: cursor, limit: 50)
            connections += page.items.map(\.connectionID)
            cursor = page.next
            try await Task.sleep(for: .milliseconds(1))
        } while cursor != nil
        var users: [String] = []
        cursor = nil
        repeat {
            let page = try await registry.onlineUsers(tenant: "", channel: nil, after: cursor, limit: 50)
            users += page.items.map(\.user)
            cursor = page.next
            try await Task.sleep(for: .milliseconds(1))
        } while cursor != nil
        churning.withLockedValue { $0 = false }
        let rounds = await churn.value
        #expect(rounds > 2, "the churn ran alongside")

        #expect(Set(connections).count == connections.count, "no connection listed twice")
        #expect(Set(stayed.map(\.connectionID)).isSubset(of: Set(connections)), "every connection that stayed is listed")
        #expect(Set(users).count == users.count, "no user listed twice")
        #expect(stayedUsers.isSubset(of: Set(users)), "every user who stayed online is listed")
        await store.close()
    }

    /// Two reapers removing the same dead node at once: each connection is removed, and reported, by
    /// exactly one; users and channels only on the dead node go offline and vacant exactly once.
    @Test(arguments: RegistryKind.allCases)
    func concurrentRemoversOfADeadNodeEachReportADisjointShare(_ kind: RegistryKind) async throws {
        let store = try kind.make()
        let registry = store.registry
        // More than one reaping batch: 1,300 connections of 400 users on the dead node.
        let dead = (0..<1300).map { ConnectionRecord.test("d\($0)", node: "dead", user: "u\($0 % 400)", channels: ["ch\($0 % 50)"]) }
        // Users 0..<100 and channels 0..<10 also have a connection on a live node.
        let live = (0..<100).map { ConnectionRecord.test("l\($0)", node: "live", user: "u\($0)", channels: ["ch\($0 % 10)"]) }
        for batch in stride(from: 0, to: dead.count, by: 250) {
            _ = await registry.apply(dead[batch..<min(batch + 250, dead.count)].map { .register($0, joined: $0.addresses) })
        }
        _ = await registry.apply(live.map { .register($0, joined: $0.addresses) })

        async let first = registry.removeEntries(ofNode: "dead")
        async let second = registry.removeEntries(ofNode: "dead")
        let removed = try await first + second
        #expect(removed.count == 1300)
        #expect(Set(removed.map(\.record.connectionID)) == Set(dead.map(\.connectionID)))
        #expect(Set(removed.map(\.record)) == Set(dead), "each record as it was registered")
        let offline = removed.filter(\.change.userTransition).compactMap(\.record.user)
        #expect(offline.count == 300 && Set(offline) == Set((100..<400).map { "u\($0)" }))
        let vacated = removed.flatMap(\.change.channels)
        #expect(vacated.count == 40 && Set(vacated) == Set((10..<50).map { "ch\($0)" }))
        #expect(Set(removed.map(\.change.sequence)).count == 1300)

        // The node itself comes back and unregisters what the reaper already removed: nothing to report.
        #expect(try await registry.unregister(dead[0], left: []) == .unchanged)
        #expect(try await registry.removeEntries(ofNode: "dead") == [])
        #expect(try await registry.onlineUsers(tenant: "", channel: nil, after: nil, limit: 1000).items.map(\.user).sorted()
            == (0..<100).map { "u\($0)" }.sorted())
        #expect(try await registry.connections(ConnectionFilter(), after: nil, limit: 1000).items.map(\.nodeID) == Array(repeating: "live", count: 100))
        await store.close()
    }

    /// A reaper that saw a node's lease run out must not remove what the node registered after
    /// renewing it (it restarted under the same id): the lease is checked with the removal.
    @Test(arguments: RegistryKind.allCases)
    func aReaperLeavesANodeThatRenewedItsLease(_ kind: RegistryKind) async throws {
        let store = try kind.make()
        let registry = store.registry
        let node = NodeRecord(nodeID: "phoenix", bootID: "b", host: "h", port: 1, startedAt: 0)
        let record = ConnectionRecord.test("p1", node: "phoenix", user: "alice")
        try await registry.register(record, joined: record.addresses)
        try await registry.registerNode(node, lease: .milliseconds(1))
        try await Task.sleep(for: .milliseconds(60))
        // Renewed: alive again.
        try await registry.registerNode(node, lease: .seconds(60))
        #expect(try await registry.removeEntries(ofNode: "phoenix", expiredFor: .milliseconds(20)) == [])
        #expect(try await registry.userPresence("alice", tenant: "", limit: 10).connections == [record])
        // Ran out for good.
        try await registry.registerNode(node, lease: .milliseconds(1))
        try await Task.sleep(for: .milliseconds(60))
        let removed = try await registry.removeEntries(ofNode: "phoenix", expiredFor: .milliseconds(20))
        #expect(removed.map(\.record) == [record] && removed.allSatisfy(\.change.userTransition))
        await store.close()
    }
}
