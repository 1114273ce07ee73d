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
}
