import Foundation
import Logging
import SSEClient
import SSEFanout
import Testing

/// A resume backlog far larger than `sse.maxBufferedBytes` goes out a page at a time, as fast as the
/// client reads: a client that reads gets all of it and then the live events, one that does not is cut
/// off as a slow client without the node buffering the backlog for it.
@Suite struct ResumeBacklogTests {
    private static let bound = 16 * 1024

    private static func configure(_ configuration: inout NodeConfiguration) {
        configuration.maxBufferedBytes = bound
        configuration.historyMaxLength = 10_000
        configuration.maxBodySize = 1024 * 1024
    }

    /// One node with a small bound, for the suite's reading clients.
    static let cluster = Task { () throws -> TestCluster in
        let cluster = try await TestCluster.start(nodes: 1, configure)
        try await cluster.waitReady()
        return cluster
    }

    private static func target(user: String) -> String { #"{"type":"user","id":"\#(user)"}"# }
    private static func target(channel: String) -> String { #"{"type":"channel","id":"\#(channel)"}"# }

    /// Publishes events `0..<count` in arrays of 200, to the targets in turn, each carrying `size` bytes
    /// of padding after its number and an id of its own.
    ///
    /// A busy machine can stall Redis past the command timeout, and the node answers 503 without knowing
    /// whether the append landed: only the items answered `unavailable` are sent again, with their ids.
    /// One answered `in_flight` was kept: once our attempt has answered, its claim is still pending only
    /// if its entry stayed in history (a withdrawal drops the entries before the claims).
    private static func publish(_ c: TestCluster, _ count: Int, to targets: [String], size: Int) async throws {
        let padding = String(repeating: "x", count: size)
        let prefix = TestEnvironment.uniqueName("e")
        for start in stride(from: 0, to: count, by: 200) {
            var pending = Array(start..<min(count, start + 200))
            for _ in 0..<4 where !pending.isEmpty {
                let items = pending.map { n in
                    #"{"target":\#(targets[n % targets.count]),"id":"\#(prefix)-\#(n)","data":"\#(n) \#(padding)"}"#
                }
                let response = try await c.publish(0, "[" + items.joined(separator: ",") + "]")
                guard response.status == 503 else {
                    #expect(response.status == 202, "\(response.bodyString)")
                    pending = []
                    break
                }
                let answers = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
                pending = zip(pending, answers).filter { $0.1["error"] as? String == "unavailable" }.map(\.0)
            }
            #expect(pending.isEmpty, "events \(pending) unavailable after 4 attempts")
        }
    }

    /// The number an event of `publish` carries, or its data.
    private static func label(_ event: SSEEvent) -> String {
        String(event.data.prefix { $0 != " " })
    }

    /// The id of a fresh stream's `connected` event: where it stood when it opened.
    private static func connectedID(_ c: TestCluster, _ query: String) async throws -> String {
        let stream = try await SSEStream.connect(c.url(0, "/events?\(query)"))
        defer { Task { await stream.close() } }
        return try #require(try await stream.next()?.id)
    }

    @Test func aClientThatDoesNotReadItsBacklogIsClosedWithoutTheNodeBufferingIt() async throws {
        let lines = CapturingLogHandler.Lines()
        let logger = Logger(label: "test-node") { _ in CapturingLogHandler(lines: lines) }
        let c = try await TestCluster.start(nodes: 1, logger: logger, Self.configure)
        defer { Task { await c.stop() } }
        try await c.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let before = try await Self.connectedID(c, "user=\(user)")
        // 8 MB missed: 500 times the bound.
        try await Self.publish(c, 2_000, to: [Self.target(user: user)], size: 4096)

        let encoded = before.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? before
        let stalled = try await RawStreamClient.stalled(port: c.nodes[0].port, path: "/events?user=\(user)&lastEventId=\(encoded)")
        defer { Task { await stalled.close() } }
        // The client reads nothing, so it would not notice the close: the node's log says it. When is not
        // what is tested: the node first writes pages until the socket's buffers are full, each read from
        // Redis, which on a machine busy with other suites took longer than the usual 10 s.
        try await TestEnvironment.eventually(timeout: .seconds(60), "the node closing the client") {
            lines.all.contains { $0.contains("closing slow client") }
        }
        let closing = try #require(lines.all.first { $0.contains("closing slow client") })
        let unsent = try #require(closing.split(separator: " ").first { $0.hasPrefix("unsent=") }.flatMap { Int($0.dropFirst(7)) })
        // A page's slice past the bound at most, however large the backlog.
        #expect(unsent <= 2 * Self.bound, "the node held \(unsent) bytes for a client that read nothing")
        try await TestEnvironment.eventually("the stream removed") { c.nodes[0].hub.connectionCount == 0 }
    }

    @Test func aReadingClientGetsABacklogOfSeveralPagesOnceAndInOrderThenTheLiveEvents() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let channel = TestEnvironment.uniqueName("ch")
        let query = "user=\(user)&channel=\(channel)"
        let before = try await Self.connectedID(c, query)
        // Two streams interleaved, 12 MB (more than the kernel's socket buffers take): pages of a few
        // events each, merged by position.
        let count = 3_000
        let targets = [Self.target(user: user), Self.target(channel: channel)]
        try await Self.publish(c, count, to: targets, size: 4096)

        let (resumed, _) = try await c.subscribe(0, query, headers: [("Last-Event-ID", before)])
        defer { Task { await resumed.close() } }
        var got = [Self.label(try #require(try await resumed.nextOwn()))]
        // The replay has begun: these come after it.
        for n in 0..<4 {
            let response = try await c.publish(0, #"{"target":\#(targets[n % 2]),"data":"live-\#(n)"}"#)
            #expect(response.status == 202)
        }
        while got.count < count + 4, let event = try await resumed.nextOwn() { got.append(Self.label(event)) }
        let backlog = (0..<count).map(String.init)
        let live = (0..<4).map { "live-\($0)" }
        #expect(got.count == count + 4 && Set(got) == Set(backlog + live), "each event once")
        #expect(Set(got.prefix(count)) == Set(backlog), "the backlog first")
        // Order holds per target; across targets, events kept in the same millisecond have no order.
        let inUserStream = Set(stride(from: 0, to: count, by: 2).map(String.init) + ["live-0", "live-2"])
        #expect(got.filter(inUserStream.contains) == (backlog + live).filter(inUserStream.contains))
        #expect(got.filter { !inUserStream.contains($0) } == (backlog + live).filter { !inUserStream.contains($0) })
    }

    @Test func anEventPublishedDuringALongReplayArrivesAfterTheBacklogOnce() async throws {
        let c = try await Self.cluster.value
        let user = TestEnvironment.uniqueName("u")
        let before = try await Self.connectedID(c, "user=\(user)")
        let count = 3_000
        try await Self.publish(c, count, to: [Self.target(user: user)], size: 4096)

        let (resumed, _) = try await c.subscribe(0, "user=\(user)", headers: [("Last-Event-ID", before)])
        defer { Task { await resumed.close() } }
        #expect(try await resumed.nextOwn().map(Self.label) == "0")
        // Kept in history while the replay is under way, and sent live: the replay reads it, the live copy is dropped.
        #expect(try await c.publish(0, #"{"target":\#(Self.target(user: user)),"data":"live"}"#).status == 202)
        var got: [String] = []
        while got.last != "live", let event = try await resumed.nextOwn() { got.append(Self.label(event)) }
        #expect(got == (1..<count).map(String.init) + ["live"])
        #expect(try await c.publish(0, #"{"target":\#(Self.target(user: user)),"data":"after"}"#).status == 202)
        #expect(try await resumed.nextOwn().map(Self.label) == "after")
    }
}
