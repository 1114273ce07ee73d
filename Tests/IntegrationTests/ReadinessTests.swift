import Foundation
import Logging
import RabbitMQ
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

    /// A node that cannot reach Redis cannot route: it leaves `sse.ingress` to the nodes that can, and
    /// takes its share again once Redis is back.
    @Test func aNodeCutOffFromRedisLeavesTheIngressQueueToNodesThatCanRoute() async throws {
        let redis = try #require(URLComponents(string: TestEnvironment.redisURL))
        let relay = try await TCPRelay.start(to: redis.host ?? "127.0.0.1", port: redis.port ?? 6379)
        let healthy = try await TestCluster.start(nodes: 1)
        defer { Task { await healthy.stop() } }
        let lines = CapturingLogHandler.Lines()
        let cutOff = try await TestCluster.start(
            nodes: 1, redisURL: "redis://127.0.0.1:\(relay.port)/0", logger: Logger(label: "test-cut-off") { _ in CapturingLogHandler(lines: lines) })
        defer { Task { await cutOff.stop(); await relay.cut() } }
        try await healthy.waitReady()
        try await cutOff.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await healthy.subscribe(0, "user=\(user)")
        defer { Task { await stream.close() } }
        let producer = try await Producer.connect()
        defer { Task { await producer.shutdown() } }
        let routedByCutOff = { lines.all.filter { $0.contains("routing an ingress message") && $0.contains("user:\(user)") }.count }
        // Ingress is at least once (a message taken by a node that stops before its ack comes again),
        // so the stream may see an event twice: each wait below looks for its own events only.
        var published = 0
        func publish() async throws -> String {
            published += 1
            let data = "\(published)"
            try await publishToIngress(producer, #"{"target":{"type":"user","id":"\#(user)"},"data":"\#(data)","ephemeral":true}"#)
            return data
        }
        func receive(_ expected: Set<String>) async throws {
            var missing = expected
            while !missing.isEmpty, let event = try await stream.nextOwn() { missing.remove(event.data) }
            #expect(missing.isEmpty, "never received \(missing.sorted())")
        }
        /// Publishes to sse.ingress until the cut-off node has routed one more (RabbitMQ deals messages
        /// out in turn among the nodes that consume), each reaching the stream through Redis.
        func untilTheCutOffNodeRoutesOne() async throws {
            let before = routedByCutOff()
            for _ in 0..<1000 where routedByCutOff() == before {
                try await receive([try await publish()])
            }
            #expect(routedByCutOff() > before, "the node took no ingress message")
        }
        try await untilTheCutOffNodeRoutesOne()

        await relay.cut()
        try await TestEnvironment.eventually("the cut-off node stops consuming sse.ingress") {
            lines.all.contains { $0.contains("stopped consuming a queue") && $0.contains("queue=\(BrokerTopology.ingressQueue)") }
        }
        let routedBefore = routedByCutOff()
        // 200: none left to the cut-off node by chance, however many nodes consume.
        var expected = Set<String>()
        for _ in 0..<200 { expected.insert(try await publish()) }
        try await receive(expected)
        #expect(routedByCutOff() == routedBefore, "the node without Redis took ingress messages")

        let consumesIngress = {
            lines.all.filter { $0.contains("consumer consumes a queue") && $0.contains("queue=\(BrokerTopology.ingressQueue)") }.count
        }
        let consumedBefore = consumesIngress()
        try await relay.open()
        // Awaited, not counted in publishes: its Redis client retries with backoff (seconds on a busy
        // machine), and a thousand publishes took less than that.
        try await TestEnvironment.eventually(timeout: .seconds(60), "the node consumes sse.ingress again") { consumesIngress() > consumedBefore }
        try await untilTheCutOffNodeRoutesOne()
    }

    private func publishToIngress(_ producer: AMQPPublisher, _ json: String) async throws {
        let outcome = try await producer.publish(
            exchange: BrokerTopology.ingressExchange, routingKey: "", body: Array(json.utf8),
            properties: AMQPMessageProperties(contentType: "application/json"))
        #expect(outcome == .confirmed)
    }
}
