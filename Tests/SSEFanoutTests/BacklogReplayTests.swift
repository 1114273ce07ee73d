import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import SSEFanout

/// A resuming stream's replay on its loop: pages go out as the client reads, live events wait behind
/// them and are not sent twice, and a client that stops reading is closed like a live one.
@Suite struct BacklogReplayTests {
    private let logger = Logger(label: "test-replay")
    private let start = StreamPosition(milliseconds: 1_700_000_000_000)

    private func resuming(on loop: EmbeddedEventLoop, bound: Int = 64 * 1024) -> (SSEConnection, EmbeddedChannel) {
        let channel = EmbeddedChannel(loop: loop)
        let record = ConnectionRecord(connectionID: "r", nodeID: "n1", connectedAt: 0, addresses: ConnectionRecord.addresses(user: "alice"))
        let from = ResumeToken(streams: record.streams, at: start)
        let connection = SSEConnection(record: record, channel: channel, token: from, resumedFrom: from, maxBufferedBytes: bound)
        return (connection, channel)
    }

    private func event(_ data: String, sequence: UInt64) -> OutboundEvent {
        let position = StreamPosition(milliseconds: start.milliseconds, sequence: sequence)
        return OutboundEvent(Publication(target: .user("alice"), data: .text(data), id: "e-\(data)", position: position))
    }

    private func data(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            out += String(buffer: buffer).components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        }
        return out
    }

    /// What `SSEConnection.replay` reports, in order.
    private final class Written: Sendable {
        let outcomes = NIOLockedValueBox<[Bool]>([])
        var callback: @Sendable (Bool) -> Void { { value in self.outcomes.withLockedValue { $0.append(value) } } }
        var all: [Bool] { outcomes.withLockedValue { $0 } }
    }

    @Test func aPageWaitsWhileTheClientReadsNothingAndGoesOnWhenItDoes() throws {
        let loop = EmbeddedEventLoop()
        let (connection, channel) = resuming(on: loop)
        let written = Written()
        connection.beginReplay(connected: SSEEncoder.comment("connected"))
        connection.writabilityChanged(false)
        connection.replay((1...3).map { event("\($0)", sequence: $0) }, written: written.callback)
        // Only `connected` went out; the page waits, and the next one is not asked for.
        #expect(try data(channel).isEmpty)
        #expect(written.all.isEmpty)
        connection.writabilityChanged(true)
        #expect(try data(channel) == ["1", "2", "3"])
        #expect(written.all == [true])
    }

    @Test func liveEventsComeAfterTheBacklogAndThoseItReplayedAreNotSentAgain() throws {
        let loop = EmbeddedEventLoop()
        let (connection, channel) = resuming(on: loop)
        let written = Written()
        connection.beginReplay(connected: SSEEncoder.comment("connected"))
        // Arrived live while the replay was under way: 3 was kept before the replay read it, 4 after.
        connection.enqueue(event("3", sequence: 3), logger: logger)
        connection.enqueue(event("4", sequence: 4), logger: logger)
        connection.replay((1...3).map { event("\($0)", sequence: $0) }, written: written.callback)
        connection.finishReplay(reset: nil, advancing: [], logger: logger)
        #expect(try data(channel) == ["1", "2", "3", "4"])
        #expect(written.all == [true])
        // Live now: a later event goes straight out.
        connection.enqueue(event("5", sequence: 5), logger: logger)
        connection.flush(logger: logger)
        #expect(try data(channel) == ["5"])
    }

    @Test func aReplayWaitingOnAClientThatReadNothingForAWholeHeartbeatIsClosedAsSlow() throws {
        let loop = EmbeddedEventLoop()
        let (connection, _) = resuming(on: loop)
        let written = Written()
        connection.beginReplay(connected: SSEEncoder.comment("connected"))
        connection.writabilityChanged(false)
        connection.replay([event("1", sequence: 1)], written: written.callback)
        let beat = SSEEncoder.comment("heartbeat")
        connection.heartbeat(beat, logger: logger)
        #expect(connection.isOpen)
        // It read a little in between: another interval to go.
        connection.writabilityChanged(true)
        connection.writabilityChanged(false)
        connection.replay([event("2", sequence: 2)], written: written.callback)
        connection.heartbeat(beat, logger: logger)
        #expect(connection.isOpen)
        connection.heartbeat(beat, logger: logger)
        #expect(!connection.isOpen)
        #expect(connection.closeReason == .slowClient)
        #expect(written.all == [true, false])
    }

    @Test func holdingMoreLiveEventsThanTheBoundClosesTheStreamAsSlow() throws {
        let loop = EmbeddedEventLoop()
        let (connection, _) = resuming(on: loop, bound: 4096)
        connection.beginReplay(connected: SSEEncoder.comment("connected"))
        let large = String(repeating: "x", count: 1500)
        for sequence in 1...2 { connection.enqueue(event("\(sequence)-\(large)", sequence: UInt64(sequence)), logger: logger) }
        #expect(connection.isOpen)
        connection.enqueue(event("3-\(large)", sequence: 3), logger: logger)
        #expect(!connection.isOpen)
        #expect(connection.closeReason == .slowClient)
    }
}

/// The backlog read page by page from several history streams, merged by position.
@Suite struct BacklogTests {
    private func keep(_ texts: [String], in stream: Address, _ history: InProcessHistory) async throws -> [StreamPosition] {
        try await history.admit(texts.map { text in
            HistoryAdmission(claim: nil, stream: stream, body: PublicationCodec.encode(Publication(target: stream, data: .text(text), id: text)))
        }).compactMap { outcome in
            guard case .accepted(let position) = outcome else { return nil }
            return position
        }
    }

    private func texts(_ events: [OutboundEvent]) -> [String] {
        events.map { String(buffer: $0.body).components(separatedBy: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) } ?? "" }
    }

    @Test func pagesMergeSeveralStreamsInPositionOrderEachEventOnce() async throws {
        let history = InProcessHistory(retention: HistoryRetention())
        let before = StreamPosition(milliseconds: 1)
        let expected = (0..<60).map(String.init)
        for n in 0..<60 {
            _ = try await keep(["\(n)"], in: n % 3 == 0 ? .channel("news") : .user("alice"), history)
        }
        // Small pages: a few entries per read.
        var backlog = Backlog([(.user("alice"), before), (.channel("news"), before)], from: history, pageBytes: 400)
        var got: [OutboundEvent] = []
        var pages = 0
        reading: while true {
            switch try await backlog.next() {
            case .events(let events):
                #expect(events.count <= Backlog.pageEntries)
                got += events
                pages += 1
            case .end: break reading
            case .truncated: Issue.record("not truncated"); break reading
            }
        }
        #expect(pages > 5)
        // Oldest first across streams (events kept in the same millisecond have no order between
        // streams), and in order within each.
        let positions = got.compactMap(\.position)
        #expect(positions.count == 60 && positions == positions.sorted())
        #expect(Set(texts(got)) == Set(expected))
        #expect(texts(got.filter { $0.stream == .channel("news") }) == expected.filter { Int($0)! % 3 == 0 })
        #expect(texts(got.filter { $0.stream == .user("alice") }) == expected.filter { Int($0)! % 3 != 0 })
    }

    @Test func trimmingFoundOnTheWayEndsTheBacklogAsTruncated() async throws {
        let history = InProcessHistory(retention: HistoryRetention(maxLength: 20))
        let positions = try await keep((0..<20).map(String.init), in: .user("alice"), history)
        var backlog = Backlog([(.user("alice"), positions[0])], from: history, pageBytes: 200)
        guard case .events(let first) = try await backlog.next() else { Issue.record("no first page"); return }
        #expect(texts(first).first == "1")
        // Meanwhile so much was kept that what the replay had not read yet was trimmed.
        _ = try await keep((20..<60).map(String.init), in: .user("alice"), history)
        var outcome = try await backlog.next()
        while case .events = outcome { outcome = try await backlog.next() }
        guard case .truncated = outcome else { Issue.record("not truncated: \(outcome)"); return }
    }
}
