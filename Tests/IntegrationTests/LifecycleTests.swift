import Foundation
import Logging
import Redis
import SSEClient
import SSEFanout
import Testing

/// Lifecycle events on real RabbitMQ and Redis: what a backend bound to `sse.lifecycle` hears, and
/// presence as the HTTP routes answer it.
@Suite struct LifecycleTests {
    /// Waits until `condition` holds for the listener's events, then a moment more, so that an extra
    /// (duplicate) event would have arrived too.
    private func settle(_ listener: LifecycleListener, _ what: String, timeout: Duration = .seconds(15), _ condition: @escaping ([LifecycleListener.Event]) -> Bool) async throws {
        try await TestEnvironment.eventually(timeout: timeout, what) { condition(listener.events) }
        try await Task.sleep(for: .milliseconds(500))
    }

    private func count(_ events: [LifecycleListener.Event], _ name: String) -> Int {
        events.filter { $0.event == name }.count
    }

    @Test func twoConnectionsOfOneUserOnTwoNodesMakeOneOnlineAndOneOffline() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let listener = try await LifecycleListener.start()
        defer { Task { await listener.stop() } }
        let user = TestEnvironment.uniqueName("u")
        let channel = TestEnvironment.uniqueName("ch")
        let (first, a) = try await c.subscribe(0, "user=\(user)&channel=\(channel)&clientId=laptop")
        let (second, b) = try await c.subscribe(1, "user=\(user)&channel=\(channel)&session=s1")

        // Presence, as the routes answer it, from either node.
        let (status, body) = await PresenceRoutes.answer(uri: "/presence/users/\(user)", presence: c.nodes[1].registry)
        #expect(status == .ok)
        let presence = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(presence["online"] as? Bool == true)
        let connections = try #require(presence["connections"] as? [[String: Any]])
        #expect(Set(connections.compactMap { $0["connectionId"] as? String }) == [a.connectionId, b.connectionId])
        #expect(Set(connections.compactMap { $0["node"] as? String }) == [c.nodes[0].nodeID, c.nodes[1].nodeID])
        let (_, inChannel) = await PresenceRoutes.answer(uri: "/presence/users?channel=\(channel)", presence: c.nodes[0].registry)
        #expect(String(decoding: inChannel, as: UTF8.self).contains(#"{"user":"\#(user)","connections":2,"#))
        let (_, bySession) = await PresenceRoutes.answer(uri: "/presence/connections?session=s1", presence: c.nodes[0].registry)
        #expect(String(decoding: bySession, as: UTF8.self).contains(b.connectionId))

        await first.close()
        await second.close()
        let mine = { (events: [LifecycleListener.Event]) in events.filter { $0.user == user } }
        try await settle(listener, "both closes and the offline") { events in
            self.count(mine(events), "connection.closed") == 2 && self.count(mine(events), "user.offline") == 1
        }
        let events = mine(listener.events).sorted { $0.seq < $1.seq }
        #expect(count(events, "user.online") == 1)
        #expect(count(events, "user.offline") == 1)
        #expect(count(events, "connection.opened") == 2)
        #expect(count(events, "connection.closed") == 2)
        #expect(count(events, "channel.occupied") == 1)
        #expect(count(events, "channel.vacated") == 1)
        #expect(events.first?.event == "connection.opened" && events.last?.event != "user.online")
        let online = try #require(events.first { $0.event == "user.online" })
        let offline = try #require(events.first { $0.event == "user.offline" })
        #expect(online.seq < offline.seq)
        #expect(offline.reason == "client_closed")
        #expect(events.allSatisfy { $0.routingKey == $0.event && $0.tenant == "" })
        let opened = events.filter { $0.event == "connection.opened" }
        #expect(opened.first { $0.connectionId == a.connectionId }?.clientId == "laptop")
        #expect(opened.first { $0.connectionId == b.connectionId }?.session == "s1")
        #expect(events.filter { $0.event == "connection.closed" }.allSatisfy { $0.reason == "client_closed" })
        #expect(events.first { $0.event == "channel.occupied" }?.channel == channel)

        let (_, gone) = await PresenceRoutes.answer(uri: "/presence/users/\(user)", presence: c.nodes[0].registry)
        #expect(String(decoding: gone, as: UTF8.self).contains(#""online":false"#))
    }

    @Test func aDrainingNodeSaysWhyItsStreamsClosed() async throws {
        let listener = try await LifecycleListener.start()
        defer { Task { await listener.stop() } }
        let cluster = try await TestCluster.start(nodes: 1)
        try await cluster.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await cluster.subscribe(0, "user=\(user)")
        await cluster.stop()
        try await stream.waitClosed(timeout: .seconds(10))
        try await settle(listener, "the drained stream's offline") { events in
            events.contains { $0.user == user && $0.event == "user.offline" }
        }
        let events = listener.events(where: { $0.user == user })
        #expect(events.filter { $0.event == "connection.closed" }.map(\.reason) == ["drain"])
        #expect(events.filter { $0.event == "user.offline" }.map(\.reason) == ["drain"])
    }

    /// What a node killed with -9 leaves: its connections in Redis and a lease that ran out. Two live
    /// nodes reap it; each connection's close, and each user's offline, is heard exactly once.
    @Test func aDeadNodesUsersGoOfflineExactlyOnceWhileTwoNodesReap() async throws {
        let listener = try await LifecycleListener.start()
        defer { Task { await listener.stop() } }
        // Leases long enough that a live node stalled by a busy machine is never taken for dead (a
        // second was not: a live node's stream was reaped too); they renew, and reap, every 1.7 s.
        let lease: Duration = .seconds(5)
        let cluster = try await TestCluster.start(nodes: 2) { $0.nodeLease = lease }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let registry = RedisRegistry(client: redis)
        let dead = TestEnvironment.uniqueName("dead")
        let users = (0..<10).map { _ in TestEnvironment.uniqueName("u") }
        let channel = TestEnvironment.uniqueName("ch")
        var records: [ConnectionRecord] = []
        for index in 0..<40 {
            records.append(.test(TestEnvironment.uniqueName("c"), node: dead, user: users[index % 10], channels: [channel]))
        }
        for record in records { try await registry.register(record, joined: record.addresses) }
        // One of the users is also connected to a live node: they stay online.
        let (stream, _) = try await cluster.subscribe(0, "user=\(users[0])")
        defer { Task { await stream.close() } }
        // A lease that ran out two leases ago: reapable at once.
        _ = try await redis.command(["ZADD", "sse:nodes", String(Int64(Date().timeIntervalSince1970 * 1000) - 10_000), dead])

        let closes = { (events: [LifecycleListener.Event]) in events.filter { $0.node == dead && $0.event == "connection.closed" } }
        try await settle(listener, "every close of the dead node's connections", timeout: .seconds(10)) { closes($0).count >= 40 }
        // Another round of reaping by both nodes (every third of a lease) would have shown a duplicate by now.
        try await Task.sleep(for: lease / 2)
        let events = listener.events(where: { $0.node == dead })
        #expect(closes(events).count == 40)
        #expect(Set(closes(events).compactMap(\.connectionId)) == Set(records.map(\.connectionID)))
        #expect(events.allSatisfy { $0.reason == "node_died" })
        let offline = events.filter { $0.event == "user.offline" }.compactMap(\.user)
        #expect(offline.sorted() == users.dropFirst().sorted(), "every user only on the dead node, once")
        #expect(events.filter { $0.event == "channel.vacated" }.map(\.channel) == [channel])
        #expect(try await cluster.nodes[1].registry.userPresence(users[0], tenant: "", limit: 10).connections.map(\.nodeID) == [cluster.nodes[0].nodeID])
    }

    /// Reaping takes a dead node's connections so that only one node reports them: a node that could
    /// not publish what it took (its RabbitMQ is unreachable) would lose every close, offline and
    /// vacated, so it leaves the dead to its peers.
    @Test func aNodeThatCannotReachRabbitMQReapsNothing() async throws {
        // Keys of its own, so that no node of another suite reaps what this one leaves alone.
        let prefix = "\(TestEnvironment.uniqueName("sse-noreap")):"
        let cluster = try await TestCluster.start(nodes: 1, amqpURL: "amqp://guest:guest@127.0.0.1:1/%2f") {
            $0.nodeLease = .seconds(1)
            $0.redisKeyPrefix = prefix
        }
        defer { Task { await cluster.stop() } }
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let registry = RedisRegistry(client: redis, keys: RedisKeys(prefix: prefix))
        let dead = TestEnvironment.uniqueName("dead")
        let record = ConnectionRecord.test(TestEnvironment.uniqueName("c"), node: dead, user: TestEnvironment.uniqueName("u"))
        try await registry.register(record, joined: record.addresses)
        _ = try await redis.command(["ZADD", "\(prefix)nodes", String(Int64(Date().timeIntervalSince1970 * 1000) - 10_000), dead])

        // The node looks for dead nodes right after each renewal of its own lease: three renewals, two looks.
        let node = cluster.nodes[0].nodeID
        var renewals: Set<Int64> = []
        try await TestEnvironment.eventually(timeout: .seconds(10), "three renewals of the node's lease") {
            if let expiry = try await redis.command(["ZSCORE", "\(prefix)nodes", node]).string.flatMap({ Int64(Double($0) ?? 0) }) {
                renewals.insert(expiry)
            }
            return renewals.count >= 3
        }
        #expect(try await registry.userPresence(record.user!, tenant: "", limit: 10).connections == [record], "left for a peer to reap")
        let removed = try await registry.removeEntries(ofNode: dead)
        #expect(removed.map(\.record) == [record])
    }

    @Test func aNodeRestartingWithItsIdReportsWhatItsEarlierIncarnationLeft() async throws {
        let listener = try await LifecycleListener.start()
        defer { Task { await listener.stop() } }
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let nodeID = TestEnvironment.uniqueName("again")
        let user = TestEnvironment.uniqueName("u")
        let earlier = ConnectionRecord.test(TestEnvironment.uniqueName("c"), node: nodeID, user: user)
        try await RedisRegistry(client: redis).register(earlier, joined: earlier.addresses)

        let cluster = try await TestCluster.start(nodes: 1) { $0.nodeID = nodeID }
        defer { Task { await cluster.stop() } }
        try await settle(listener, "the earlier incarnation's offline") { events in
            events.contains { $0.user == user && $0.event == "user.offline" }
        }
        let events = listener.events(where: { $0.user == user })
        #expect(events.map(\.event) == ["connection.closed", "user.offline"])
        #expect(events.allSatisfy { $0.reason == "node_died" && $0.connectionId == earlier.connectionID })
    }
}
