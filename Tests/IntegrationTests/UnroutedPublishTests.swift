import Foundation
import Logging
import Redis
import SSEClient
import SSEFanout
import Testing

/// A publish answered 503 was accepted nowhere: not kept in history, and its retry is kept and delivered once.
@Suite struct UnroutedPublishTests {
    @Test func aPublishAnsweredUnavailableIsNotKeptAndItsRetryIsDeliveredOnce() async throws {
        let healthy = try await ClusterDeliveryTests.cluster.value
        // Same Redis, no RabbitMQ: every send of this node fails.
        let cut = try await TestCluster.start(nodes: 1, amqpURL: "amqp://guest:guest@127.0.0.1:1/%2f")
        defer { Task { await cut.stop() } }
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let user = TestEnvironment.uniqueName("u")
        let live = try await SSEStream.connect(healthy.url(0, "/events?user=\(user)"))
        defer { Task { await live.close() } }
        let connected = try #require(try await live.next())
        let before = try #require(connected.id)

        let eventID = TestEnvironment.uniqueName("evt")
        let body = #"{"target":{"type":"user","id":"\#(user)"},"data":"refused","id":"\#(eventID)"}"#
        let refused = try await cut.publish(0, body)
        #expect(refused.status == 503)
        #expect(try await redis.command(["XLEN", "sse:history:user:\(user)"]).int == 0)

        // A client resuming from before does not get it.
        let (resumed, _) = try await healthy.subscribe(1, "user=\(user)", headers: [("Last-Event-ID", before)])
        defer { Task { await resumed.close() } }
        #expect(try await healthy.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"after"}"#).status == 202)
        #expect(try await resumed.nextOwn()?.data == "after")
        #expect(try await live.nextOwn()?.data == "after")

        // Its retry, with the same id, is accepted as new and reaches everyone once.
        let retried = try await healthy.publish(0, body)
        #expect(retried.status == 202)
        #expect(!retried.bodyString.contains("duplicate"))
        #expect(try await healthy.publish(1, #"{"target":{"type":"user","id":"\#(user)"},"data":"end"}"#).status == 202)
        #expect(try await live.nextOwn()?.data == "refused")
        #expect(try await live.nextOwn()?.data == "end")
        #expect(try await resumed.nextOwn()?.data == "refused")
        #expect(try await resumed.nextOwn()?.data == "end")
        #expect(try await redis.command(["XLEN", "sse:history:user:\(user)"]).int == 3)
        #expect(try await redis.command(["GET", "sse:idem:|\(eventID)"]).string == "done")
    }
}

/// Reading history across a withdrawn entry (a publish answered 503 after later ones were kept) and across trimming.
@Suite struct HistoryGapTests {
    private static func history(maxLength: Int = 1000) throws -> (RedisHistory, RedisClient) {
        let client = try Producer.redis()
        return (RedisHistory(client: client, retention: HistoryRetention(maxLength: maxLength, maxAge: .seconds(600))), client)
    }

    private static func keep(_ texts: [String], in stream: Address, _ history: RedisHistory) async throws -> [StreamPosition] {
        try await history.admit(texts.map { HistoryAdmission(claim: nil, stream: stream, body: Array($0.utf8)) }).map { outcome in
            guard case .accepted(let position?) = outcome else { throw TestEnvironment.TimedOut(what: "an entry kept: \(outcome)") }
            return position
        }
    }

    private static func texts(_ read: HistoryRead) -> [String] {
        read.entries.map { String(decoding: $0.body, as: UTF8.self) }
    }

    @Test func aWithdrawnEntryBetweenTwoKeptOnesIsNoTruncation() async throws {
        let (history, redis) = try Self.history()
        defer { Task { await redis.shutdown() } }
        let user = TestEnvironment.uniqueName("u")
        let positions = try await Self.keep(["1", "2", "3"], in: .user(user), history)
        // What a node does with an entry whose publish failed after "3" was kept behind it.
        #expect(try await redis.command(["XDEL", "sse:history:user:\(user)", positions[1].description]).int == 1)
        let read = try await history.read(.user(user), after: positions[0])
        #expect(Self.texts(read) == ["3"])
        #expect(!read.truncated)
    }

    @Test func trimmingStillGivesTruncationWithOrWithoutAWithdrawnEntry() async throws {
        let (history, redis) = try Self.history(maxLength: 3)
        defer { Task { await redis.shutdown() } }
        let user = TestEnvironment.uniqueName("u")
        // Redis trims approximately (MAXLEN ~): keep well past the limit.
        let positions = try await Self.keep((0..<300).map(String.init), in: .user(user), history)
        #expect(try await history.read(.user(user), after: positions[0]).truncated)
        // A withdrawal next to the client's position does not hide the trimming before it.
        let entries = try #require(try await redis.command(["XRANGE", "sse:history:user:\(user)", "-", "+"]).array)
        let kept = entries.compactMap { $0.array?.first?.string }
        #expect(try await redis.command(["XDEL", "sse:history:user:\(user)", kept[kept.count - 2]]).int == 1)
        #expect(try await history.read(.user(user), after: positions[0]).truncated)
        // Nor is a position inside what is kept taken for truncated.
        let inside = try #require(StreamPosition(kept[kept.count - 3]))
        let tail = try await history.read(.user(user), after: inside)
        #expect(!tail.truncated)
        #expect(Self.texts(tail) == ["299"])
    }
}
