import Foundation
import Logging
import NIOConcurrencyHelpers
import RabbitMQ
import Redis
import SSEClient
import SSEFanout
import Testing

/// What a stream leaves in Redis while open and after it ends.
@Suite struct StreamLifecycleTests {
    @Test func redisHoldsTheConnectionWhileOpenAndNothingAfterwards() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let user = TestEnvironment.uniqueName("u")
        let channel = TestEnvironment.uniqueName("ch")
        let node = c.nodes[1].nodeID
        let (stream, info) = try await c.subscribe(1, "user=\(user)&channel=\(channel)&clientId=laptop")
        let id = info.connectionId

        let record = try await redis.command(["HGETALL", "sse:conn:\(id)"]).array?.compactMap(\.string) ?? []
        #expect(record.count >= 10)
        #expect(try await redis.command(["HGET", "sse:conn:\(id)", "node"]).string == node)
        #expect(try await redis.command(["HGET", "sse:conn:\(id)", "clientId"]).string == "laptop")
        #expect(try await redis.command(["SISMEMBER", "sse:addr:user:\(user)", node]).int == 1)
        #expect(try await redis.command(["SISMEMBER", "sse:addr:client:\(user)/laptop", node]).int == 1)
        #expect(try await redis.command(["SISMEMBER", "sse:node:\(node):connections", id]).int == 1)
        #expect(try await redis.command(["SISMEMBER", "sse:addr:channel:\(channel)", node]).int == 1)
        #expect(try await redis.command(["SISMEMBER", "sse:node:\(node):addresses", "channel:\(channel)"]).int == 1)

        await stream.close()
        try await TestEnvironment.eventually("connection gone from Redis") {
            try await redis.command(["EXISTS", "sse:conn:\(id)"]).int == 0
        }
        #expect(try await redis.command(["EXISTS", "sse:addr:user:\(user)"]).int == 0)
        #expect(try await redis.command(["SISMEMBER", "sse:node:\(node):connections", id]).int == 0)
        #expect(try await redis.command(["EXISTS", "sse:addr:channel:\(channel)"]).int == 0)
        #expect(try await redis.command(["SISMEMBER", "sse:node:\(node):addresses", "channel:\(channel)"]).int == 0)
        // No key anywhere mentions the connection, the user or the channel.
        for pattern in ["*\(id)*", "*\(user)*", "*\(channel)*"] {
            #expect(try await redis.command(["KEYS", pattern]).array?.isEmpty == true)
        }
    }

    @Test func aUsersOtherConnectionsStayRegistered() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let user = TestEnvironment.uniqueName("u")
        let channel = TestEnvironment.uniqueName("ch")
        let (first, a) = try await c.subscribe(1, "user=\(user)&channel=\(channel)")
        let (second, b) = try await c.subscribe(1, "user=\(user)&channel=\(channel)")
        await first.close()
        try await TestEnvironment.eventually("first connection gone") {
            try await redis.command(["EXISTS", "sse:conn:\(a.connectionId)"]).int == 0
        }
        #expect(try await redis.command(["EXISTS", "sse:conn:\(b.connectionId)"]).int == 1)
        #expect(try await redis.command(["SISMEMBER", "sse:addr:user:\(user)", c.nodes[1].nodeID]).int == 1)
        #expect(try await redis.command(["SISMEMBER", "sse:addr:channel:\(channel)", c.nodes[1].nodeID]).int == 1)
        _ = try await c.publish(0, #"{"target":{"type":"channel","id":"\#(channel)"},"data":"still here"}"#)
        #expect(try await second.nextOwn()?.data == "still here")
        await second.close()
    }

    @Test func aClientThatStopsReadingIsDisconnectedAndOthersKeepGettingEvents() async throws {
        let cluster = try await TestCluster.start(nodes: 1) { $0.maxBufferedBytes = 16 * 1024 }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let slowUser = TestEnvironment.uniqueName("slow")
        let stalled = try await RawStreamClient.stalled(port: cluster.nodes[0].port, path: "/events?user=\(slowUser)")
        defer { Task { await stalled.close() } }
        try await TestEnvironment.eventually("stalled client registered") {
            try await redis.command(["EXISTS", "sse:addr:user:\(slowUser)"]).int == 1
        }
        let healthyUser = TestEnvironment.uniqueName("ok")
        let (healthy, _) = try await cluster.subscribe(0, "user=\(healthyUser)")
        defer { Task { await healthy.close() } }

        let chunk = String(repeating: "x", count: 60_000)
        var sent = 0
        // Publish until the node gives up on the stalled client (bounded: 64 × 60 KB ≫ socket buffers + 16 KiB).
        while sent < 64, try await redis.command(["EXISTS", "sse:addr:user:\(slowUser)"]).int == 1 {
            let response = try await cluster.publish(0, #"{"target":{"type":"user","id":"\#(slowUser)"},"data":"\#(chunk)"}"#)
            #expect(response.status == 202)
            sent += 1
        }
        try await TestEnvironment.eventually("stalled client unregistered") {
            try await redis.command(["EXISTS", "sse:addr:user:\(slowUser)"]).int == 0
        }
        #expect(cluster.nodes[0].hub.connectionCount == 1)
        _ = try await cluster.publish(0, #"{"target":{"type":"user","id":"\#(healthyUser)"},"data":"fine"}"#)
        #expect(try await healthy.nextOwn()?.data == "fine")
    }

    @Test func gracefulStopClosesStreamsAndRemovesTheNodeFromRedis() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        try await cluster.waitReady()
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let node = cluster.nodes[0].nodeID
        let user = TestEnvironment.uniqueName("u")
        let (stream, info) = try await cluster.subscribe(0, "user=\(user)")
        #expect(try await redis.command(["EXISTS", "sse:node:\(node)"]).int == 1)

        await cluster.stop()
        try await stream.waitClosed(timeout: .seconds(10))
        #expect(try await redis.command(["EXISTS", "sse:node:\(node)"]).int == 0)
        #expect(try await redis.command(["ZSCORE", "sse:nodes", node]) == .null)
        #expect(try await redis.command(["EXISTS", "sse:conn:\(info.connectionId)"]).int == 0)
        #expect(try await redis.command(["EXISTS", "sse:addr:user:\(user)"]).int == 0)
        #expect(try await redis.command(["EXISTS", "sse:node:\(node):connections"]).int == 0)
    }

    @Test func gracefulDrainTellsClientsWhenToReturnAndClosesThemSpreadOverTheWindow() async throws {
        let cluster = try await TestCluster.start(nodes: 1) { $0.drainWindow = .seconds(1) }
        try await cluster.waitReady()
        var streams: [SSEStream] = []
        for _ in 0..<20 {
            streams.append(try await cluster.subscribe(0, "user=\(TestEnvironment.uniqueName("d"))").0)
        }
        let stopping = Task { await cluster.stop() }
        let closedAt = try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { group in
            for stream in streams {
                group.addTask {
                    try await stream.waitClosed(timeout: .seconds(5))
                    return .now
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        await stopping.value
        // Every client was told when to come back, just before its stream closed.
        #expect(streams.allSatisfy { ($0.reconnectionTime ?? 0) >= 100 && $0.reconnectionTime != 3000 })
        let spread = closedAt.max()! - closedAt.min()!
        #expect(spread > .milliseconds(300))
    }

    @Test func aNodeRegistersItsLiveConnectionsAgainWhenRedisLostThem() async throws {
        let cluster = try await TestCluster.start(nodes: 2) { $0.nodeLease = .seconds(1) }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let user = TestEnvironment.uniqueName("u")
        let channel = TestEnvironment.uniqueName("ch")
        let node = cluster.nodes[1].nodeID
        let (stream, info) = try await cluster.subscribe(1, "user=\(user)&channel=\(channel)")
        defer { Task { await stream.close() } }
        // What FLUSHALL or a Redis restart without data does, limited to this node's keys.
        _ = try await redis.command(["DEL", "sse:node:\(node)", "sse:conn:\(info.connectionId)", "sse:addr:user:\(user)", "sse:addr:channel:\(channel)", "sse:node:\(node):connections"])
        try await TestEnvironment.eventually(timeout: .seconds(5), "connection registered again") {
            try await redis.command(["SISMEMBER", "sse:addr:user:\(user)", node]).int == 1
        }
        #expect(try await redis.command(["SISMEMBER", "sse:addr:channel:\(channel)", node]).int == 1)
        #expect(try await redis.command(["HGET", "sse:conn:\(info.connectionId)", "node"]).string == node)
        _ = try await cluster.publish(0, #"{"target":{"type":"channel","id":"\#(channel)"},"data":"found again"}"#)
        #expect(try await stream.nextOwn()?.data == "found again")
    }
}

/// What happens to a node that dies without a goodbye.
@Suite struct DeadNodeTests {
    @Test func aDeadNodesRegistryEntriesAreReapedWithinThreeLeaseIntervals() async throws {
        let cluster = try await TestCluster.start(nodes: 1) { $0.nodeLease = .seconds(2) }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let dead = TestEnvironment.uniqueName("dead")
        let user = TestEnvironment.uniqueName("u")
        let connection = TestEnvironment.uniqueName("c")
        let channel = TestEnvironment.uniqueName("ch")
        let expired = Int64(Date().timeIntervalSince1970 * 1000) - 1
        // What a node killed with -9 leaves behind: its entries, and a lease that ran out.
        _ = try await redis.pipeline([
            ["ZADD", "sse:nodes", String(expired), dead],
            ["HSET", "sse:conn:\(connection)", "node", dead, "user", user],
            ["SADD", "sse:addr:user:\(user)", dead],
            ["SADD", "sse:node:\(dead):connections", connection],
            ["SADD", "sse:addr:channel:\(channel)", dead],
            ["SADD", "sse:node:\(dead):addresses", "user:\(user)", "channel:\(channel)"],
        ])
        let start = ContinuousClock.now
        try await TestEnvironment.eventually(timeout: .seconds(6), "dead node reaped") {
            try await redis.command(["ZSCORE", "sse:nodes", dead]) == .null
        }
        #expect(ContinuousClock.now - start < .seconds(6))  // three lease intervals
        for key in ["sse:conn:\(connection)", "sse:addr:user:\(user)", "sse:node:\(dead):connections", "sse:addr:channel:\(channel)", "sse:node:\(dead):addresses"] {
            #expect(try await redis.command(["EXISTS", key]).int == 0, "\(key) left behind")
        }
    }

    /// Declares the queue of a node that died with it in place: declared, never consumed. Not bound for
    /// broadcasts or kicks: other tests' (30 s to live) would queue ahead of the event, and RabbitMQ
    /// expires a message only once it is at the head of its queue.
    private func declareDeadNodeQueue(_ dead: String) async throws {
        var topology = BrokerTopology.node(dead, queueExpiry: .seconds(60))
        topology.bindings.removeAll {
            $0.exchange == BrokerTopology.broadcastExchange || $0.routingKey == BrokerTopology.internalBroadcastKey
                || $0.routingKey == BrokerTopology.controlKey
        }
        let declarer = AMQPPublisher(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL), topology: topology, logger: Logger(label: "test-dead")
        )
        declarer.start()
        try await declarer.waitUntilConnected(timeout: .seconds(10))
        await declarer.shutdown()
    }

    @Test func eventsWaitingInADeadNodesQueueAreReroutedToWhereTheUserIsNow() async throws {
        let cluster = try await TestCluster.start(nodes: 2)
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let dead = TestEnvironment.uniqueName("dead")
        try await declareDeadNodeQueue(dead)
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await cluster.subscribe(1, "user=\(user)")
        defer { Task { await stream.close() } }
        // What a node routed to the user's old node just before that node crashed: it waits there
        // until its time to live runs out, then any node takes it from the dead-letter queue.
        let producer = try await Producer.connect()
        defer { Task { await producer.shutdown() } }
        let outcome = try await producer.publish(
            exchange: BrokerTopology.directExchange, routingKey: dead,
            body: Array(#"{"target":{"type":"user","id":"\#(user)"},"data":"waited","ephemeral":true}"#.utf8),
            properties: AMQPMessageProperties(contentType: "application/json", expirationMilliseconds: 200), mandatory: true
        )
        #expect(outcome == .confirmed)
        #expect(try await stream.nextOwn()?.data == "waited")
    }

    @Test func eventsForAnotherNodeCarryTheMessageTimeToLive() async throws {
        let cluster = try await TestCluster.start(nodes: 1) { $0.messageTTL = .seconds(2) }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let dead = TestEnvironment.uniqueName("dead")
        let received = NIOLockedValueBox<[AMQPDelivery]>([])
        let consumerBox = NIOLockedValueBox<AMQPConsumer?>(nil)
        let consumer = AMQPConsumer(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL), topology: BrokerTopology.node(dead, queueExpiry: .seconds(60)),
            queues: [BrokerTopology.nodeQueue(dead)], prefetch: 10, logger: Logger(label: "test-dead")
        ) { delivery in
            received.withLockedValue { $0.append(delivery) }
            consumerBox.withLockedValue { $0 }?.ack(delivery)
        }
        consumerBox.withLockedValue { $0 = consumer }
        consumer.start()
        defer { Task { await consumer.stop() } }
        try await consumer.waitUntilConnected(timeout: .seconds(10))
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let user = TestEnvironment.uniqueName("u")
        _ = try await redis.command(["SADD", "sse:addr:user:\(user)", dead])
        defer { Task { _ = try? await redis.command(["DEL", "sse:addr:user:\(user)"]) } }
        let answer = try await cluster.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"for the other node"}"#)
        #expect(answer.bodyString.contains(#""nodes":1"#))
        // Other tests' broadcasts reach this queue too.
        let ours = { received.withLockedValue { $0.first { String(decoding: $0.body, as: UTF8.self).contains("for the other node") } } }
        try await TestEnvironment.eventually("the event in the other node's queue") { ours() != nil }
        let delivery = try #require(ours())
        #expect(delivery.properties.expirationMilliseconds == 2000)
        // From a node, through the exchange only nodes may publish to.
        #expect(delivery.exchange == BrokerTopology.internalExchange)
    }
}
