import Foundation
import SSEClient
import SSEFanout
import Testing

/// `serve --standalone`: one node with the in-process broker and registry, no RabbitMQ or Redis.
@Suite struct StandaloneTests {
    @Test func standaloneNodeDeliversEveryTargetType() async throws {
        let cluster = try await TestCluster.start(nodes: 1, amqpURL: "amqp://guest:guest@127.0.0.1:1/%2f", redisURL: "redis://127.0.0.1:1/0") {
            $0.standalone = true
        }
        defer { Task { await cluster.stop() } }
        #expect(try await HTTPClient().request("GET", cluster.url(0, "/readyz")).status == 200)
        let (stream, info) = try await cluster.subscribe(0, "user=solo&channel=room")
        defer { Task { await stream.close() } }
        let targets = [
            #"{"type":"user","id":"solo"}"#, #"{"type":"channel","id":"room"}"#,
            #"{"type":"connection","id":"\#(info.connectionId)"}"#, #"{"type":"broadcast"}"#,
        ]
        for (index, target) in targets.enumerated() {
            let response = try await cluster.publish(0, #"{"target":\#(target),"data":"\#(index)"}"#)
            #expect(response.status == 202)
            #expect(try await stream.nextOwn()?.data == "\(index)")
        }
        #expect(try await cluster.publish(0, #"{"target":{"type":"user","id":"nobody"},"data":"x"}"#).bodyString.contains(#""nodes":0"#))
    }

    /// A stream's client has nothing more to say: bytes it sends after its request, even ones that are
    /// no HTTP, are dropped unread, and the stream goes on; whether they came with the request or later.
    @Test func bytesAStreamsClientSendsAfterItsRequestAreIgnored() async throws {
        let cluster = try await TestCluster.start(nodes: 1, amqpURL: "amqp://guest:guest@127.0.0.1:1/%2f", redisURL: "redis://127.0.0.1:1/0") {
            $0.standalone = true
        }
        defer { Task { await cluster.stop() } }
        let noise = "GET /healthz HTTP/1.1\r\n\r\n\u{0}this is no HTTP\r\n\r\n"
        let withRequest = try await RawStreamClient.open(port: cluster.nodes[0].port, path: "/events?user=chatty", trailing: noise)
        defer { Task { await withRequest.close() } }
        let later = try await RawStreamClient.open(port: cluster.nodes[0].port, path: "/events?user=chatty")
        defer { Task { await later.close() } }
        for client in [withRequest, later] {
            try await TestEnvironment.eventually("connected") { client.text.contains("event: connected") }
        }
        try await later.send(noise)

        let response = try await cluster.publish(0, #"{"target":{"type":"user","id":"chatty"},"data":"still streaming"}"#)
        #expect(response.status == 202)
        for client in [withRequest, later] {
            try await TestEnvironment.eventually("the event") { client.text.contains("data: still streaming") }
            #expect(client.isOpen)
            #expect(!client.text.contains("HTTP/1.1 200 OK\r\nContent-Type: application/json"))
        }
    }
}
