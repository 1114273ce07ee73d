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
        let stall = Task { try? await RedisClient(configuration: try RedisConfiguration(url: redis.url), logger: Logger(label: "staller")).command(["DEBUG", "SLEEP", "8"]) }
        try await Task.sleep(for: .milliseconds(200))  // the fault's own timing: let the sleep begin
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
