import Foundation
import Redis
import SSEClient
import SSEFanout
import Testing

/// Resume across nodes with `Last-Event-ID`, offline users, idempotent publisher ids, ephemeral events.
@Suite struct ResumeTests {
    private func publish(_ c: TestCluster, _ node: Int, _ json: String) async throws -> [String: Any] {
        let response = try await c.publish(node, json)
        #expect(response.status == 202)
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
    }

    @Test func aClientResumesOnAnotherNodeWithNoGapAndNoDuplicate() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let channel = TestEnvironment.uniqueName("ch")
        let (first, _) = try await c.subscribe(0, "user=\(user)&channel=\(channel)")
        _ = try await publish(c, 0, #"{"target":{"type":"user","id":"\#(user)"},"data":"1"}"#)
        _ = try await publish(c, 1, #"{"target":{"type":"channel","id":"\#(channel)"},"data":"2"}"#)
        #expect(try await first.nextOwn()?.data == "1")
        let second = try #require(try await first.nextOwn())
        #expect(second.data == "2")
        let lastID = try #require(second.id)
        await first.close()

        // Missed while away, on both streams.
        for (n, target) in [(3, #"{"type":"user","id":"\#(user)"}"#), (4, #"{"type":"channel","id":"\#(channel)"}"#), (5, #"{"type":"user","id":"\#(user)"}"#)] {
            _ = try await publish(c, n % 2, #"{"target":\#(target),"data":"\#(n)"}"#)
        }
        let (resumed, _) = try await c.subscribe(1, "user=\(user)&channel=\(channel)", headers: [("Last-Event-ID", lastID)])
        defer { Task { await resumed.close() } }
        _ = try await publish(c, 0, #"{"target":{"type":"user","id":"\#(user)"},"data":"6"}"#)
        var got: [String] = []
        while got.count < 4, let event = try await resumed.nextOwn() { got.append(event.data) }
        #expect(got == ["3", "4", "5", "6"])
    }

    @Test func theQueryParameterWorksLikeTheHeader() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (first, _) = try await c.subscribe(1, "user=\(user)")
        _ = try await publish(c, 0, #"{"target":{"type":"user","id":"\#(user)"},"data":"a"}"#)
        let lastID = try #require(try await first.nextOwn()?.id)
        await first.close()
        _ = try await publish(c, 0, #"{"target":{"type":"user","id":"\#(user)"},"data":"b"}"#)
        let encoded = lastID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? lastID
        let (resumed, _) = try await c.subscribe(0, "user=\(user)&lastEventId=\(encoded)")
        defer { Task { await resumed.close() } }
        #expect(try await resumed.nextOwn()?.data == "b")
    }

    @Test func anOfflineUsersEventsAreStoredAndDeliveredOnConnect() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        // Connect once, to hold a token, then go offline.
        let connectedID = try await Self.connectedID(c, user: user)
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        try await TestEnvironment.eventually("user offline") { try await redis.command(["EXISTS", "sse:addr:user:\(user)"]).int == 0 }
        let answer = try await publish(c, 1, #"{"target":{"type":"user","id":"\#(user)"},"data":"while away"}"#)
        #expect(answer["nodes"] as? Int == 0)
        #expect(answer["stored"] as? Bool == true)
        let (back, _) = try await c.subscribe(1, "user=\(user)", headers: [("Last-Event-ID", connectedID)])
        defer { Task { await back.close() } }
        #expect(try await back.nextOwn()?.data == "while away")
    }

    /// A fresh stream's `connected` event carries a token standing at the moment it connected.
    private static func connectedID(_ c: TestCluster, user: String) async throws -> String {
        let stream = try await SSEStream.connect(c.url(0, "/events?user=\(user)"))
        defer { Task { await stream.close() } }
        let connected = try #require(try await stream.next())
        #expect(connected.event == "connected")
        return try #require(connected.id)
    }

    @Test func aRetriedPublishWithTheSameIdIsDeliveredOnce() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(1, "user=\(user)")
        defer { Task { await stream.close() } }
        let eventID = TestEnvironment.uniqueName("evt")
        let first = try await publish(c, 0, #"{"target":{"type":"user","id":"\#(user)"},"data":"once","id":"\#(eventID)"}"#)
        let again = try await publish(c, 1, #"{"target":{"type":"user","id":"\#(user)"},"data":"once","id":"\#(eventID)"}"#)
        #expect(first["duplicate"] == nil)
        #expect(again["duplicate"] as? Bool == true)
        _ = try await publish(c, 0, #"{"target":{"type":"user","id":"\#(user)"},"data":"next"}"#)
        #expect(try await stream.nextOwn()?.data == "once")
        #expect(try await stream.nextOwn()?.data == "next")
    }

    @Test func concurrentPublishesWithOneIdAndRepeatsInOneArrayMakeOneCopy() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let eventID = TestEnvironment.uniqueName("evt")
        let body = #"{"target":{"type":"user","id":"\#(user)"},"data":"racing","id":"\#(eventID)"}"#
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for attempt in 0..<6 { group.addTask { try await c.publish(attempt % 2, body).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Each attempt was accepted, a duplicate of one that was (202), or refused while one was in flight (409).
        #expect(statuses.allSatisfy { $0 == 202 || $0 == 409 })
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        #expect(try await redis.command(["XLEN", "sse:history:user:\(user)"]).int == 1)

        let arrayID = TestEnvironment.uniqueName("evt")
        let first = #"{"target":{"type":"user","id":"\#(user)"},"data":"FIRST","id":"\#(arrayID)"}"#
        let between = Array(repeating: #"{"target":{"type":"user","id":"\#(user)"},"data":"between"}"#, count: 40)
        let second = #"{"target":{"type":"user","id":"\#(user)"},"data":"SECOND","id":"\#(arrayID)"}"#
        let answer = try await c.publish(0, "[" + ([first] + between + [second]).joined(separator: ",") + "]")
        #expect(answer.status == 409)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [[String: Any]])
        #expect(items.first?["id"] as? String == arrayID)
        #expect(items.last?["error"] as? String == "in_flight")
        #expect(try await redis.command(["XLEN", "sse:history:user:\(user)"]).int == 42)
    }

    @Test func ephemeralEventsAreNotReplayed() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let connectedID = try await Self.connectedID(c, user: user)
        let answer = try await publish(c, 0, #"{"target":{"type":"user","id":"\#(user)"},"data":"typing","ephemeral":true}"#)
        #expect(answer["stored"] as? Bool == false)
        _ = try await publish(c, 0, #"{"target":{"type":"user","id":"\#(user)"},"data":"kept"}"#)
        let (back, _) = try await c.subscribe(1, "user=\(user)", headers: [("Last-Event-ID", connectedID)])
        defer { Task { await back.close() } }
        #expect(try await back.nextOwn()?.data == "kept")
    }

    @Test func missingMoreThanTheRetentionGivesReset() async throws {
        let c = try await TestCluster.start(nodes: 1) { $0.historyMaxLength = 3 }
        defer { Task { await c.stop() } }
        try await c.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let connectedID = try await Self.connectedID(c, user: user)
        // Redis trims approximately (MAXLEN ~): publish well past the limit.
        for n in 0..<300 { _ = try await c.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"\#(n)"}"#) }
        let (back, _) = try await c.subscribe(0, "user=\(user)", headers: [("Last-Event-ID", connectedID)])
        defer { Task { await back.close() } }
        let reset = try #require(try await back.nextOwn())
        #expect(reset.event == "reset")
        _ = try await c.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"live"}"#)
        #expect(try await back.nextOwn()?.data == "live")
    }

    @Test func aLastEventIdFromTheFutureGivesResetOnceThenLiveEvents() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(0, "user=\(user)", headers: [("Last-Event-ID", "1.u~3w5e11264sgsf-3w5e11264sgsf")])
        let reset = try #require(try await stream.nextOwn())
        #expect(reset.event == "reset")
        #expect(try await c.publish(1, #"{"target":{"type":"user","id":"\#(user)"},"data":"live"}"#).status == 202)
        let live = try #require(try await stream.nextOwn())
        #expect(live.data == "live")
        await stream.close()
        // Its id now reads from the present: no second reset.
        let (back, _) = try await c.subscribe(1, "user=\(user)", headers: [("Last-Event-ID", try #require(live.id))])
        defer { Task { await back.close() } }
        #expect(try await c.publish(0, #"{"target":{"type":"user","id":"\#(user)"},"data":"next"}"#).status == 202)
        #expect(try await back.nextOwn()?.data == "next")
    }

    @Test func anUnreadableLastEventIdGivesReset() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let (stream, _) = try await c.subscribe(0, "user=\(TestEnvironment.uniqueName("u"))", headers: [("Last-Event-ID", "not-ours")])
        defer { Task { await stream.close() } }
        #expect(try await stream.nextOwn()?.event == "reset")
    }
}

/// The idempotency key in Redis: an attempt that never settled holds its retry back only until its claim lapses.
@Suite struct IdempotencyTests {
    @Test func aRetryOfAnAbandonedAttemptIsRefusedUntilItsClaimLapsesThenDeliveredOnce() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let redis = try Producer.redis()
        defer { Task { await redis.shutdown() } }
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(1, "user=\(user)")
        defer { Task { await stream.close() } }
        let eventID = TestEnvironment.uniqueName("evt")
        // What an attempt that claimed the id and then lost Redis (or its node) leaves behind.
        // Lapsing after 3 s: long enough that the publish below meets it on a busy machine (500 ms was not).
        _ = try await redis.command(["SET", "sse:idem:|\(eventID)", "pending", "PX", "3000"])
        let body = #"{"target":{"type":"user","id":"\#(user)"},"data":"retried","id":"\#(eventID)"}"#
        let refused = try await c.publish(0, body)
        #expect(refused.status == 409)
        #expect(refused.bodyString.contains("in_flight"))
        try await TestEnvironment.eventually("the abandoned claim lapsed") {
            try await redis.command(["EXISTS", "sse:idem:|\(eventID)"]).int == 0
        }
        let response = try await c.publish(0, body)
        #expect(response.status == 202)
        #expect(!response.bodyString.contains("duplicate"))
        #expect(try await stream.nextOwn()?.data == "retried")
        #expect(try await redis.command(["GET", "sse:idem:|\(eventID)"]).string == "done")
    }
}

/// Publishes racing to the same stream reach a node in any order; every one is delivered.
@Suite struct RacingPublishTests {
    @Test func concurrentPublishesToOneStreamAreAllDelivered() async throws {
        let c = try await ClusterDeliveryTests.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let (stream, _) = try await c.subscribe(1, "user=\(user)")
        defer { Task { await stream.close() } }
        let count = 60
        try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<count {
                group.addTask { try await c.publish(n % 2, #"{"target":{"type":"user","id":"\#(user)"},"data":"\#(n)"}"#).status }
            }
            for try await status in group { #expect(status == 202) }
        }
        var received = Set<String>()
        while received.count < count, let event = try await stream.nextOwn() {
            #expect(received.insert(event.data).inserted, "duplicate \(event.data)")
        }
        #expect(received.count == count)
    }
}
