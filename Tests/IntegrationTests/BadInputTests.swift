import Foundation
import Logging
import NIOConcurrencyHelpers
import RabbitMQ
import SSEClient
import SSEFanout
import Testing

/// Bad input gets a 4xx with a JSON body that says what is wrong, and the node keeps serving.
@Suite(.serialized) struct BadInputTests {
    private func expectError(_ response: HTTPResponse, status: Int, code: String) throws {
        #expect(response.status == status)
        #expect(response.header("Content-Type") == "application/json")
        let error = try JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body))
        #expect(error.error == code)
        #expect(!error.message.isEmpty)
    }

    @Test func badPublishBodiesAreRefusedWithTheirReason() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let cases: [(String, Int, String)] = [
            ("{not json", 400, "invalid_json"),
            (#"{"data":"x"}"#, 400, "missing_target"),
            (#"{"target":{"id":"a"},"data":"x"}"#, 400, "missing_target_type"),
            (#"{"target":{"type":"planet","id":"a"},"data":"x"}"#, 400, "unknown_target_type"),
            (#"{"target":{"type":"user"},"data":"x"}"#, 400, "missing_target_id"),
            (#"{"target":{"type":"connection"},"data":"x"}"#, 400, "missing_target_id"),
            (#"{"target":{"type":"user","id":"a"}}"#, 400, "missing_data"),
            (#"{"target":{"type":"user","id":"a"},"data":"x","event":"two\nlines"}"#, 400, "invalid_event"),
            (#"{"target":{"type":"user","id":"a"},"data":"x","id":"a\rb"}"#, 400, "invalid_id"),
        ]
        for (body, status, code) in cases {
            try expectError(try await c.publish(0, body), status: status, code: code)
        }
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let big = String(repeating: "y", count: 70_000)
        try expectError(try await c.publish(0, #"{"target":{"type":"broadcast"},"data":"\#(big)"}"#), status: 413, code: "body_too_large")
    }

    @Test func wrongRoutesAndMethods() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        try expectError(try await HTTPClient().request("GET", c.url(0, "/nowhere")), status: 404, code: "not_found")
        try expectError(try await HTTPClient().request("GET", c.url(0, "/publish")), status: 405, code: "method_not_allowed")
        try expectError(try await HTTPClient().request("GET", c.url(0, "/events?user=")), status: 400, code: "invalid_user")
    }

    @Test func theNodeKeepsServingAfterBadInput() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(0, "user=\(user)")
        defer { Task { await stream.close() } }
        for _ in 0..<20 { _ = try await c.publish(0, "]]]") }
        _ = try await c.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"ok"}"#)
        #expect(try await stream.nextOwn()?.data == "ok")
    }

    @Test func aMalformedAMQPMessageIsDeadLetteredNotRequeued() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let marker = TestEnvironment.uniqueName("poison")
        // Which of the two were parked (a message may be parked twice: a node that stops before its
        // ack is sent leaves the dead letter to another node).
        let parked = NIOLockedValueBox<Set<String>>([])
        // Nodes move malformed dead letters to the poison queue: watch it for ours.
        try await Self.watchingPoison({ delivery in
            let body = String(decoding: delivery.body, as: UTF8.self)
            if body.hasPrefix("not json \(marker) ") { parked.withLockedValue { _ = $0.insert(body) } }
        }) {
            let user = TestEnvironment.uniqueName("u")
            let (stream, _) = try await c.subscribe(1, "user=\(user)")
            defer { Task { await stream.close() } }
            let publisher = try await Producer.connect()
            defer { Task { await publisher.shutdown() } }
            for (exchange, key) in [(BrokerTopology.directExchange, c.nodes[1].nodeID), (BrokerTopology.ingressExchange, "")] {
                _ = try await publisher.publish(exchange: exchange, routingKey: key, body: Array("not json \(marker) \(exchange)".utf8))
            }
            try await TestEnvironment.eventually("both poison messages parked") { parked.withLockedValue { $0.count } == 2 }
            // And the node goes on delivering.
            _ = try await publisher.publish(
                exchange: BrokerTopology.directExchange, routingKey: c.nodes[1].nodeID,
                body: Array(#"{"target":{"type":"user","id":"\#(user)"},"data":"after poison"}"#.utf8)
            )
            #expect(try await stream.nextOwn()?.data == "after poison")
        }
    }

    @Test func anOversizedOrOverfullAMQPMessageIsParkedWithItsReasonAndOthersFlow() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let marker = TestEnvironment.uniqueName("big")
        let reasons = NIOLockedValueBox<[String: Int]>([:])
        try await Self.watchingPoison({ delivery in
            let body = String(decoding: delivery.body, as: UTF8.self)
            if body.contains(marker), let reason = delivery.properties.headers["x-sse-reason"]?.stringValue {
                reasons.withLockedValue { $0[String(reason.prefix { $0 != ":" })] = delivery.body.count }
            }
        }) {
            let user = TestEnvironment.uniqueName("u")
            let (stream, _) = try await c.subscribe(0, "user=\(user)")
            defer { Task { await stream.close() } }
            let publisher = try await Producer.connect()
            defer { Task { await publisher.shutdown() } }
            // Over http.maxBodySize (64 KiB): parked as its first 4 KiB, with the reason. Sent to the node's
            // own queue: any node of any suite takes from sse.ingress, and one with a larger limit routes it.
            let big = #"[{"target":{"type":"user","id":"\#(user)"},"data":"\#(marker)\#(String(repeating: "x", count: 100_000))"}]"#
            _ = try await publisher.publish(exchange: BrokerTopology.directExchange, routingKey: c.nodes[0].nodeID, body: Array(big.utf8))
            // Over http.maxBatchItems (1,000) but small.
            let first = #"{"target":{"type":"user","id":"\#(user)"},"data":"\#(marker)"}"#
            let many = "[" + ([first] + Array(repeating: #"{"target":{"type":"user","id":"x"},"data":0}"#, count: 1000)).joined(separator: ",") + "]"
            #expect(many.utf8.count < 64 * 1024)
            _ = try await publisher.publish(exchange: BrokerTopology.directExchange, routingKey: c.nodes[0].nodeID, body: Array(many.utf8))
            try await TestEnvironment.eventually("both parked with reasons") {
                reasons.withLockedValue { $0["too_large"] != nil && $0["too_many_items"] != nil }
            }
            // The oversized one is kept as its first 4 KiB only.
            #expect(reasons.withLockedValue { $0["too_large"] } == 4096)
            // Neither was delivered, and the node goes on.
            #expect(try await c.publish(1, #"{"target":{"type":"user","id":"\#(user)"},"data":"after"}"#).status == 202)
            #expect(try await stream.nextOwn()?.data == "after")
        }
    }

    /// Runs `body` while a consumer of `sse.poison` shows each parked message to `look`, and stops the
    /// consumer before returning: RabbitMQ hands each message to one consumer only, so a watcher left
    /// running would take the next test's messages.
    private static func watchingPoison(_ look: @escaping @Sendable (AMQPDelivery) -> Void, _ body: () async throws -> Void) async throws {
        let watcher = try watchPoison(look)
        do {
            try await body()
        } catch {
            await watcher.stop()
            throw error
        }
        await watcher.stop()
    }

    /// A consumer of `sse.poison` that shows each parked message to `look` and acks everything, so
    /// older parked messages never fill its prefetch window.
    private static func watchPoison(_ look: @escaping @Sendable (AMQPDelivery) -> Void) throws -> AMQPConsumer {
        let box = NIOLockedValueBox<AMQPConsumer?>(nil)
        let watcher = AMQPConsumer(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL), topology: BrokerTopology.shared,
            queues: [BrokerTopology.poisonQueue], prefetch: 100, logger: Logger(label: "test-poison")
        ) { delivery in
            look(delivery)
            box.withLockedValue { $0 }?.ack(delivery)
        }
        box.withLockedValue { $0 = watcher }
        watcher.start()
        return watcher
    }
}
