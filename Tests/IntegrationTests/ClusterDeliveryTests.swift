import Foundation
import Logging
import RabbitMQ
import Redis
import SSEClient
import SSEFanout
import Testing

/// Two nodes on real RabbitMQ and Redis: a subscriber on node B gets what is published on node A.
@Suite struct ClusterDeliveryTests {
    /// One cluster for the suite; each test uses its own users and channels.
    static let cluster = Task { () throws -> TestCluster in
        let cluster = try await TestCluster.start(nodes: 2)
        try await cluster.waitReady()
        return cluster
    }

    @Test func streamAnswersWithEventStreamHeadersAndConnectedFirst() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, info) = try await c.subscribe(1, "user=\(user)&channel=a&clientId=phone")
        defer { Task { await stream.close() } }
        #expect(stream.status == 200)
        #expect(stream.header("Content-Type")?.hasPrefix("text/event-stream") == true)
        #expect(stream.header("Cache-Control") == "no-cache")
        #expect(stream.header("X-Accel-Buffering") == "no")
        #expect(info.nodeId == c.nodes[1].nodeID)
        #expect(info.user == user)
        #expect(info.channels == ["a"])
        #expect(info.connectionId.count >= 16)
    }

    @Test func userTargetCrossesNodes() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(1, "user=\(user)")
        defer { Task { await stream.close() } }
        let response = try await c.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"event":"greet","data":"hello"}"#)
        #expect(response.status == 202)
        let answer = try JSONDecoder().decode(PublishAnswer.self, from: Data(response.body))
        #expect(answer.nodes == 1)
        let event = try #require(try await stream.nextOwn())
        #expect(event.event == "greet")
        #expect(event.data == "hello")
        #expect(event.id?.hasPrefix("1.") == true)  // a resume token
    }

    @Test func connectionTargetReachesOnlyThatConnection() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (first, info) = try await c.subscribe(1, "user=\(user)")
        let (second, _) = try await c.subscribe(1, "user=\(user)")
        defer { Task { await first.close(); await second.close() } }
        let response = try await c.publish(0, #"{"target":{"type":"connection","id":"\#(info.connectionId)"},"data":"only you"}"#)
        #expect(response.status == 202)
        #expect(try await first.nextOwn()?.data == "only you")
        // The other connection of the same user gets the next user-wide event, not the connection one.
        _ = try await c.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"both"}"#)
        #expect(try await second.nextOwn()?.data == "both")
        #expect(try await first.nextOwn()?.data == "both")
    }

    @Test func channelTargetReachesSubscribersOnEveryNode() async throws {
        let c = try await Self.cluster.value
        let channel = TestEnvironment.uniqueName("ch")
        let (onA, _) = try await c.subscribe(0, "channel=\(channel)")
        let (onB, _) = try await c.subscribe(1, "channel=\(channel)&channel=other")
        let (notSubscribed, other) = try await c.subscribe(1, "channel=\(TestEnvironment.uniqueName("ch"))")
        defer { Task { await onA.close(); await onB.close(); await notSubscribed.close() } }
        let response = try await c.publish(0, #"{"target":{"type":"channel","id":"\#(channel)"},"data":{"n":1}}"#)
        let answer = try JSONDecoder().decode(PublishAnswer.self, from: Data(response.body))
        #expect(answer.nodes == 2)
        #expect(try await onA.nextOwn()?.data == #"{"n":1}"#)
        #expect(try await onB.nextOwn()?.data == #"{"n":1}"#)
        // Node B's queue is FIFO: had the channel event reached the unsubscribed stream, it would come before this marker.
        _ = try await c.publish(0, #"{"target":{"type":"connection","id":"\#(other.connectionId)"},"data":"marker"}"#)
        #expect(try await notSubscribed.nextOwn()?.data == "marker")
    }

    @Test func broadcastReachesEveryNode() async throws {
        let c = try await Self.cluster.value
        let (onA, _) = try await c.subscribe(0, "")
        let (onB, _) = try await c.subscribe(1, "user=\(TestEnvironment.uniqueName("u"))")
        defer { Task { await onA.close(); await onB.close() } }
        let marker = TestEnvironment.uniqueName("bc")
        let response = try await c.publish(1, #"{"target":{"type":"broadcast"},"event":"\#(SSEStream.testBroadcastEvent)","data":"\#(marker)","id":"\#(marker)"}"#)
        #expect(response.status == 202)
        let answer = try JSONDecoder().decode(PublishAnswer.self, from: Data(response.body))
        #expect(answer.nodes >= 2)
        // Other tests broadcast too: read until this broadcast shows up.
        for stream in [onA, onB] {
            var seen: SSEEvent?
            while seen == nil, let event = try await stream.next() {
                if event.data == marker { seen = event }
            }
            #expect(seen?.event == SSEStream.testBroadcastEvent)
            #expect(seen?.data == marker)
        }
    }

    @Test func multiLineStringDataIsSplitPerSpec() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(1, "user=\(user)")
        defer { Task { await stream.close() } }
        _ = try await c.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"one\r\ntwo\rthree\nfour"}"#)
        #expect(try await stream.nextOwn()?.data == "one\ntwo\nthree\nfour")
    }

    @Test func producersPublishingToTheIngressExchangeReachTheSubscriber() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(1, "user=\(user)")
        defer { Task { await stream.close() } }
        let publisher = try await Producer.connect()
        defer { Task { await publisher.shutdown() } }
        let outcome = try await publisher.publish(
            exchange: BrokerTopology.ingressExchange, routingKey: "anything",
            body: Array(#"{"target":{"type":"user","id":"\#(user)"},"event":"via-ingress","data":"in","id":"\#(TestEnvironment.uniqueName("ing"))"}"#.utf8)
        )
        #expect(outcome == .confirmed)
        let event = try #require(try await stream.nextOwn())
        #expect(event.event == "via-ingress" && event.data == "in")
    }

    @Test func producersPublishingToTheDirectExchangeWithANodeIdReachTheSubscriber() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, info) = try await c.subscribe(1, "user=\(user)")
        defer { Task { await stream.close() } }
        // What a producer does with the documented key schema: look the node up in Redis, then publish.
        let redis = try Producer.redis()
        let node = try await redis.command(["HGET", "sse:conn:\(info.connectionId)", "node"]).string
        #expect(node == c.nodes[1].nodeID)
        let publisher = try await Producer.connect()
        defer { Task { await publisher.shutdown(); await redis.shutdown() } }
        let outcome = try await publisher.publish(
            exchange: BrokerTopology.directExchange, routingKey: try #require(node),
            body: Array(#"{"target":{"type":"connection","id":"\#(info.connectionId)"},"data":"direct"}"#.utf8), mandatory: true
        )
        #expect(outcome == .confirmed)
        let event = try #require(try await stream.nextOwn())
        #expect(event.data == "direct")
        #expect(event.id?.hasPrefix("1.") == true)
    }

    @Test func heartbeatsKeepIdleStreamsAlive() async throws {
        let c = try await Self.cluster.value
        let (stream, _) = try await c.subscribe(0, "user=\(TestEnvironment.uniqueName("u"))")
        defer { Task { await stream.close() } }
        try await TestEnvironment.eventually("two heartbeats") { stream.commentCount >= 2 }
    }

    @Test func corsLetsAnAllowedPageStreamFromOneNodeAndPublishToAnother() async throws {
        let c = try await Self.cluster.value
        let origin = ("Origin", "https://app.example")
        let preflight = try await HTTPClient().request(
            "OPTIONS", c.url(0, "/publish"),
            headers: [origin, ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "content-type")]
        )
        #expect(preflight.status == 204)
        #expect(preflight.header("Access-Control-Allow-Origin") == "https://app.example")
        #expect(preflight.header("Access-Control-Allow-Methods")?.contains("POST") == true)
        #expect(preflight.header("Access-Control-Allow-Headers") == "content-type")

        let user = TestEnvironment.uniqueName("u")
        let stream = try await SSEStream.connect(c.url(1, "/events?user=\(user)"), headers: [origin])
        defer { Task { await stream.close() } }
        #expect(stream.header("Access-Control-Allow-Origin") == "https://app.example")
        #expect(try await stream.nextOwn()?.event == "connected")
        let publish = try await HTTPClient().request(
            "POST", c.url(0, "/publish"), headers: [origin, ("Content-Type", "application/json")],
            body: Array(#"{"target":{"type":"user","id":"\#(user)"},"data":"cors"}"#.utf8)
        )
        #expect(publish.header("Access-Control-Allow-Origin") == "https://app.example")
        #expect(try await stream.nextOwn()?.data == "cors")

        let refused = try await HTTPClient().request("OPTIONS", c.url(0, "/publish"), headers: [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")])
        #expect(refused.header("Access-Control-Allow-Origin") == nil)
    }

    @Test func healthAndReadiness() async throws {
        let c = try await Self.cluster.value
        #expect(try await HTTPClient().request("GET", c.url(0, "/healthz")).status == 200)
        let ready = try await HTTPClient().request("GET", c.url(1, "/readyz"))
        #expect(ready.status == 200)
        #expect(ready.bodyString.contains("ready"))
    }
}

/// A backend that talks to RabbitMQ and Redis directly, the way the README tells producers to.
enum Producer {
    static func connect() async throws -> AMQPPublisher {
        let publisher = AMQPPublisher(
            configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL), topology: BrokerTopology.shared,
            logger: Logger(label: "test-producer")
        )
        publisher.start()
        try await TestEnvironment.eventually("producer connected") { publisher.isConnected }
        return publisher
    }

    static func redis() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: Logger(label: "test-redis"))
    }
}
