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

    /// Declares the queue of a node that died with it in place: declared as every node declares its
    /// own, never consumed. Other tests' broadcasts and kicks reach it too.
    private func declareDeadNodeQueue(_ dead: String) async throws {
        let declarer = AMQPPublisher(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL),
            topology: BrokerTopology.node(dead, queueExpiry: .seconds(60), messageTTL: .seconds(1)), logger: Logger(label: "test-dead")
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
        // until the queue's time to live runs out, then any node takes it from the dead-letter queue.
        let producer = try await Producer.connect()
        defer { Task { await producer.shutdown() } }
        let outcome = try await producer.publish(
            exchange: BrokerTopology.directExchange, routingKey: dead,
            body: Array(#"{"target":{"type":"user","id":"\#(user)"},"data":"waited","ephemeral":true}"#.utf8),
            properties: AMQPMessageProperties(contentType: "application/json"), mandatory: true
        )
        #expect(outcome == .confirmed)
        #expect(try await stream.nextOwn()?.data == "waited")
    }

    /// RabbitMQ expires messages only at the head of a queue: one that may live long (a producer's,
    /// or a kick from a node with a longer time to live) must not hold back the events behind it.
    @Test func aLongLivedMessageAtTheHeadOfADeadNodesQueueHoldsNothingBack() async throws {
        let cluster = try await TestCluster.start(nodes: 1)
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let dead = TestEnvironment.uniqueName("dead")
        try await declareDeadNodeQueue(dead)
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await cluster.subscribe(0, "user=\(user)")
        defer { Task { await stream.close() } }
        let producer = try await Producer.connect()
        defer { Task { await producer.shutdown() } }
        let other = TestEnvironment.uniqueName("other")
        for (data, expiration) in [("a minute", 60_000), ("for ever", nil), ("waited", 200)] {
            let outcome = try await producer.publish(
                exchange: BrokerTopology.directExchange, routingKey: dead,
                body: Array(#"{"target":{"type":"user","id":"\#(data == "waited" ? user : other)"},"data":"\#(data)","ephemeral":true}"#.utf8),
                properties: AMQPMessageProperties(contentType: "application/json", expirationMilliseconds: expiration), mandatory: true
            )
            #expect(outcome == .confirmed)
        }
        // Within the queue's time to live (1 s) and a reroute, well inside the 10 s a stream waits for
        // an event; not after the head's minute.
        #expect(try await stream.nextOwn()?.data == "waited")
    }

    /// Earlier versions declared `sse.node.<id>` with a time to live per message; its settings cannot
    /// change, so nodes now use a queue of another name and take the old one's bindings away: it
    /// keeps what it held (which runs out into the dead-letter queue) and receives nothing more.
    @Test func theQueueAnEarlierVersionDeclaredForTheNodeIsUnbound() async throws {
        let nodeID = TestEnvironment.uniqueName("upgraded")
        let legacy = BrokerTopology.legacyNodeQueue(nodeID)
        var earlier = BrokerTopology.shared
        earlier.queues.append(.init(name: legacy, arguments: [
            "x-dead-letter-exchange": .string(BrokerTopology.deadLetterExchange), "x-expires": .int(60_000),
        ]))
        for (exchange, key) in [
            (BrokerTopology.directExchange, nodeID), (BrokerTopology.broadcastExchange, ""),
            (BrokerTopology.internalExchange, BrokerTopology.internalKey(node: nodeID)),
            (BrokerTopology.internalExchange, BrokerTopology.internalBroadcastKey), (BrokerTopology.internalExchange, BrokerTopology.controlKey),
        ] {
            earlier.bindings.append(.init(queue: legacy, exchange: exchange, routingKey: key))
        }
        let declarer = AMQPPublisher(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL), topology: earlier, logger: Logger(label: "test-earlier"))
        declarer.start()
        defer { Task { await declarer.shutdown() } }
        try await declarer.waitUntilConnected(timeout: .seconds(10))
        // Something the earlier node's queue held when the new version started.
        _ = try await declarer.publish(exchange: "", routingKey: legacy, body: Array("held".utf8), properties: AMQPMessageProperties())

        let cluster = try await TestCluster.start(nodes: 1) { $0.nodeID = nodeID }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await cluster.subscribe(0, "user=\(user)")
        defer { Task { await stream.close() } }
        #expect(try await cluster.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"new queue"}"#).status == 202)
        #expect(try await stream.nextOwn()?.data == "new queue")
        _ = try await declarer.publish(exchange: "", routingKey: legacy, body: Array("marker".utf8), properties: AMQPMessageProperties())

        // Read in order: a copy of the event (or of any broadcast or kick) would come before the marker.
        let received = NIOLockedValueBox<[String]>([])
        let consumerBox = NIOLockedValueBox<AMQPConsumer?>(nil)
        let consumer = AMQPConsumer(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL), topology: AMQPTopology(), queues: [legacy], prefetch: 10,
            logger: Logger(label: "test-earlier")
        ) { delivery in
            received.withLockedValue { $0.append(String(decoding: delivery.body, as: UTF8.self)) }
            consumerBox.withLockedValue { $0 }?.ack(delivery)
        }
        consumerBox.withLockedValue { $0 = consumer }
        consumer.start()
        defer { Task { await consumer.stop() } }
        try await TestEnvironment.eventually("the earlier queue read up to the marker") { received.withLockedValue { $0.contains("marker") } }
        #expect(received.withLockedValue { $0 } == ["held", "marker"])
    }

    @Test func eventsForAnotherNodeLiveAsLongAsItsQueueSays() async throws {
        let cluster = try await TestCluster.start(nodes: 1) { $0.messageTTL = .seconds(2) }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let dead = TestEnvironment.uniqueName("dead")
        let received = NIOLockedValueBox<[AMQPDelivery]>([])
        let consumerBox = NIOLockedValueBox<AMQPConsumer?>(nil)
        let consumer = AMQPConsumer(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL),
            topology: BrokerTopology.node(dead, queueExpiry: .seconds(60), messageTTL: .seconds(2)),
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
        // No time to live of its own: the queue's is every message's (see the test above).
        #expect(delivery.properties.expirationMilliseconds == nil)
        // The node's own queue holds every message 2 s: declared with another time, RabbitMQ refuses it.
        let otherwise = AMQPPublisher(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL),
            topology: BrokerTopology.node(cluster.nodes[0].nodeID, queueExpiry: .seconds(600), messageTTL: .seconds(3)),
            logger: Logger(label: "test-otherwise"))
        otherwise.start()
        defer { Task { await otherwise.shutdown() } }
        await #expect(throws: AMQPError.self) { try await otherwise.waitUntilConnected(timeout: .seconds(2)) }
        #expect(otherwise.lastError?.contains("x-message-ttl") == true)
        // From a node, through the exchange only nodes may publish to.
        #expect(delivery.exchange == BrokerTopology.internalExchange)
    }
}
