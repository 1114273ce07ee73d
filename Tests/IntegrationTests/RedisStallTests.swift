import Foundation
import Logging
import Redis
import SSEClient
import SSEFanout
import Testing

/// A stalled Redis never blocks event loops: publishes fail fast, streams keep their heartbeats,
/// `/readyz` says why.
@Suite struct RedisStallTests {
    @Test func aStalledRedisFailsPublishesFastAndStreamsKeepBeating() async throws {
        let redis = try DedicatedRedis()
        defer { redis.stop() }
        let admin = RedisClient(configuration: try RedisConfiguration(url: redis.url), logger: Logger(label: "test-admin"))
        defer { Task { await admin.shutdown() } }
        try await TestEnvironment.eventually("dedicated redis up") { (try? await admin.command(["PING"])) != nil }
        let cluster = try await TestCluster.start(nodes: 1, amqpURL: TestEnvironment.isolatedAMQPURL, redisURL: redis.url)
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let (stream, _) = try await cluster.subscribe(0, "user=\(TestEnvironment.uniqueName("u"))")
        defer { Task { await stream.close() } }

        // Stall Redis for 8 s from another connection: long enough for every check below to fall inside it.
        let stall = try await redis.stall(seconds: 8)
        let heartbeatsBefore = stream.commentCount
        let ready = try await HTTPClient().request("GET", cluster.url(0, "/readyz"))
        #expect(ready.status == 503)
        #expect(ready.bodyString.contains("Redis"))
        let started = ContinuousClock.now
        let publish = try await cluster.publish(0, #"{"target":{"type":"user","id":"someone"},"data":"x"}"#)
        #expect(publish.status == 503)
        #expect(ContinuousClock.now - started < .seconds(4))
        // The event loops are free: the stream's heartbeats go on during the stall.
        try await TestEnvironment.eventually(timeout: .seconds(3), "heartbeats during the stall") { stream.commentCount >= heartbeatsBefore + 2 }
        #expect(try await HTTPClient().request("GET", cluster.url(0, "/healthz")).status == 200)
        _ = await stall.value
        try await cluster.waitReady()
    }
}

/// What a Redis outage leaves in the registry is cleaned once Redis answers again.
@Suite struct RegistryReconcileTests {
    @Test func streamsThatEndedWhileRedisStalledLeaveNothingBehind() async throws {
        let redis = try DedicatedRedis()
        defer { redis.stop() }
        let admin = RedisClient(configuration: try RedisConfiguration(url: redis.url), logger: Logger(label: "test-admin"))
        defer { Task { await admin.shutdown() } }
        try await TestEnvironment.eventually("dedicated redis up") { (try? await admin.command(["PING"])) != nil }
        let cluster = try await TestCluster.start(nodes: 1, amqpURL: TestEnvironment.isolatedAMQPURL, redisURL: redis.url) {
            $0.nodeLease = .seconds(1)
        }
        defer { Task { await cluster.stop() } }
        try await cluster.waitReady()
        let node = cluster.nodes[0].nodeID
        let user = TestEnvironment.uniqueName("u")
        var streams: [(SSEStream, ConnectedInfo)] = []
        for _ in 0..<5 { streams.append(try await cluster.subscribe(0, "user=\(user)&channel=news")) }
        let (kept, keptInfo) = try await cluster.subscribe(0, "user=\(TestEnvironment.uniqueName("k"))&channel=news")
        defer { Task { await kept.close() } }
        try await TestEnvironment.eventually("registered") {
            try await admin.command(["SCARD", "sse:node:\(node):connections"]).int == 6
        }

        // Closed while Redis stalls: their unregistrations fail, and the node, alive, is never reaped.
        let stall = try await redis.stall(seconds: 4)
        for (stream, _) in streams { await stream.close() }
        _ = await stall.value

        try await TestEnvironment.eventually(timeout: .seconds(15), "the ended streams' entries removed") {
            try await admin.command(["SMEMBERS", "sse:node:\(node):connections"]).array?.compactMap(\.string) == [keptInfo.connectionId]
        }
        for (_, info) in streams {
            #expect(try await admin.command(["EXISTS", "sse:conn:\(info.connectionId)"]).int == 0)
        }
        #expect(try await admin.command(["EXISTS", "sse:addr:user:\(user)"]).int == 0)
        // What is still open stays registered, and reachable.
        #expect(try await admin.command(["SISMEMBER", "sse:addr:channel:news", node]).int == 1)
        #expect(try await cluster.publish(0, #"{"target":{"type":"channel","id":"news"},"data":"still here"}"#).status == 202)
        #expect(try await kept.nextOwn()?.data == "still here")
    }
}
