import Foundation
import SSEClient
import SSEFanout
import Testing

/// `/readyz` says 503 and why while RabbitMQ or Redis is unreachable; `/healthz` stays 200.
@Suite struct ReadinessTests {
    @Test func unreachableRedisMakesTheNodeNotReady() async throws {
        let cluster = try await TestCluster.start(nodes: 1, redisURL: "redis://127.0.0.1:1/0")
        defer { Task { await cluster.stop() } }
        #expect(try await HTTPClient().request("GET", cluster.url(0, "/healthz")).status == 200)
        let ready = try await HTTPClient().request("GET", cluster.url(0, "/readyz"))
        #expect(ready.status == 503)
        #expect(ready.bodyString.contains("Redis"))
        // Publishing fails fast with a clear answer instead of hanging.
        let publish = try await cluster.publish(0, #"{"target":{"type":"user","id":"a"},"data":"x"}"#)
        #expect(publish.status == 503)
    }

    @Test func unreachableRabbitMQMakesTheNodeNotReady() async throws {
        let cluster = try await TestCluster.start(nodes: 1, amqpURL: "amqp://guest:guest@127.0.0.1:1/%2f")
        defer { Task { await cluster.stop() } }
        let ready = try await HTTPClient().request("GET", cluster.url(0, "/readyz"))
        #expect(ready.status == 503)
        #expect(ready.bodyString.contains("RabbitMQ"))
    }
}
