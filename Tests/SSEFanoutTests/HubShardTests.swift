import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import SSEFanout

/// Delivery on one event loop: every stream its target names gets each event once, in order, with
/// its own `id:`; the events of one pass leave in one write per stream.
@Suite struct HubShardTests {
    private let logger = Logger(label: "test-hub")
    private let start = StreamPosition(milliseconds: 1_700_000_000_000)

    private func stream(_ id: String, user: String? = nil, channels: [String] = [], on loop: EmbeddedEventLoop) throws -> (SSEConnection, EmbeddedChannel) {
        let channel = EmbeddedChannel(loop: loop)
        let record = ConnectionRecord(connectionID: id, nodeID: "n1", connectedAt: 0, addresses: ConnectionRecord.addresses(user: user, channels: channels))
        let connection = SSEConnection(record: record, channel: channel, token: ResumeToken(streams: record.streams, at: start), resumedFrom: ResumeToken())
        connection.activate(connected: SSEEncoder.comment("hello"), reset: nil, advancing: [], logger: logger)
        _ = try channel.readOutbound(as: ByteBuffer.self)  // the `connected` stand-in
        return (connection, channel)
    }

    private func event(_ target: Address, _ data: String, sequence: UInt64) -> OutboundEvent {
        let position = target.isKept ? StreamPosition(milliseconds: start.milliseconds, sequence: sequence) : nil
        return OutboundEvent(Publication(target: target, data: .text(data), id: "e\(sequence)", position: position))
    }

    /// Every write the channel got since the last look, as text.
    private func writes(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(String(buffer: buffer)) }
        return out
    }

    @Test func aPassOfSeveralEventsIsOneWritePerStreamWithEachEventsOwnID() throws {
        let loop = EmbeddedEventLoop()
        let shard = HubShard(eventLoop: loop, logger: logger)
        let (a, channelA) = try stream("a", user: "alice", on: loop)
        let (b, channelB) = try stream("b", on: loop)
        shard.add(a)
        shard.add(b)

        shard.deliver([event(.broadcast, "one", sequence: 1), event(.user("alice"), "two", sequence: 2), event(.broadcast, "three", sequence: 3)])

        let toAlice = try writes(channelA)
        #expect(toAlice.count == 1)
        #expect(toAlice.first?.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { $0.components(separatedBy: "\n").last! } == ["data: one", "data: two", "data: three"])
        // Each event's id is the token after it: the broadcast stream at 1, then alice's at 2, then broadcast at 3.
        let ids = toAlice.first?.components(separatedBy: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) } ?? []
        #expect(ids.count == 3)
        #expect(ids.compactMap { ResumeToken(text: $0)?.position(of: .broadcast)?.sequence } == [1, 1, 3])
        #expect(ids.compactMap { ResumeToken(text: $0)?.position(of: .user("alice"))?.sequence } == [0, 2, 2])
        #expect(try writes(channelB).map { $0.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } } == [["data: one", "data: three"]])
    }

    @Test func targetedEventsReachOnlyTheirStreamsAndARepeatedIDIsWrittenOnce() throws {
        let loop = EmbeddedEventLoop()
        let shard = HubShard(eventLoop: loop, logger: logger)
        let (a, channelA) = try stream("a", user: "alice", channels: ["news"], on: loop)
        let (b, channelB) = try stream("b", user: "bob", on: loop)
        let (c, channelC) = try stream("c", channels: ["news"], on: loop)
        [a, b, c].forEach(shard.add)

        let news = event(.channel("news"), "headline", sequence: 1)
        shard.deliver([news, event(.user("bob"), "hi bob", sequence: 1), event(.connection("c"), "just c", sequence: 9), news])

        #expect(try writes(channelA).map { $0.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } } == [["data: headline"]])
        #expect(try writes(channelB).map { $0.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } } == [["data: hi bob"]])
        #expect(try writes(channelC).map { $0.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } } == [["data: headline", "data: just c"]])
    }

    @Test func aStreamMatchingTwoTargetsOfOnePublicationGetsItOnceAndItsIDPassesBoth() throws {
        let loop = EmbeddedEventLoop()
        let shard = HubShard(eventLoop: loop, logger: logger)
        let (a, channelA) = try stream("a", user: "alice", channels: ["news"], on: loop)
        shard.add(a)
        let publication = Publication(targets: [.user("alice"), .channel("news")], data: .text("both"), id: "x")
        let legs = publication.legs.enumerated().map { index, leg in
            var leg = leg
            leg.position = StreamPosition(milliseconds: start.milliseconds, sequence: UInt64(index + 1))
            return OutboundEvent(leg)
        }
        shard.deliver(legs)

        let written = try writes(channelA).joined()
        #expect(written.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } == ["data: both"])
        // The second leg only moves the client's last id (an id-only block dispatches no event), so a
        // resume from it does not replay the publication from the channel's stream.
        let ids = written.components(separatedBy: "\n").filter { $0.hasPrefix("id: ") }.compactMap { ResumeToken(text: String($0.dropFirst(4))) }
        #expect(ids.count == 2)
        #expect(ids.last?.position(of: .user("alice"))?.sequence == 1)
        #expect(ids.last?.position(of: .channel("news"))?.sequence == 2)
        #expect(written.hasSuffix("\n\n"))
    }

    @Test func tenantsKeepTheirStreamsApart() throws {
        let loop = EmbeddedEventLoop()
        let shard = HubShard(eventLoop: loop, logger: logger)
        let channelA = EmbeddedChannel(loop: loop)
        let channelB = EmbeddedChannel(loop: loop)
        for (id, tenant, channel) in [("a", "t1", channelA), ("b", "t2", channelB)] {
            let record = ConnectionRecord(connectionID: id, nodeID: "n1", connectedAt: 0, addresses: ConnectionRecord.addresses(user: "alice", clientID: "d", session: "s", tenant: tenant, channels: ["news"]))
            let connection = SSEConnection(record: record, channel: channel, token: ResumeToken(streams: record.streams, at: start), resumedFrom: ResumeToken())
            connection.activate(connected: SSEEncoder.comment("hello"), reset: nil, advancing: [], logger: logger)
            _ = try channel.readOutbound(as: ByteBuffer.self)
            shard.add(connection)
        }
        shard.deliver([
            event(.user("alice", tenant: "t1"), "user t1", sequence: 1), event(.channel("news", tenant: "t2"), "news t2", sequence: 2),
            event(.tenant("t1"), "all of t1", sequence: 3), event(.session("s", tenant: "t2"), "session t2", sequence: 4),
            event(.client(user: "alice", id: "d", tenant: "t1"), "device t1", sequence: 5), event(.user("alice"), "default tenant", sequence: 6),
        ])
        #expect(try writes(channelA).joined().components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } == ["data: user t1", "data: all of t1", "data: device t1"])
        #expect(try writes(channelB).joined().components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } == ["data: news t2", "data: session t2"])
    }

    @Test func aRemovedStreamGetsNothingAndTheOthersStillDo() throws {
        let loop = EmbeddedEventLoop()
        let shard = HubShard(eventLoop: loop, logger: logger)
        let streams = try (0..<4).map { try stream("s\($0)", on: loop) }
        streams.forEach { shard.add($0.0) }
        #expect(shard.remove(streams[1].0))
        #expect(!shard.remove(streams[1].0))
        #expect(shard.count == 3)

        shard.deliver([event(.broadcast, "after", sequence: 1)])

        #expect(try writes(streams[1].1).isEmpty)
        for index in [0, 2, 3] { #expect(try writes(streams[index].1).count == 1) }
        #expect(Set(shard.records.map(\.connectionID)) == ["s0", "s2", "s3"])
    }

    @Test func eventsQueuedFromAnotherThreadArriveInOrderInOnePass() throws {
        let loop = EmbeddedEventLoop()
        let shard = HubShard(eventLoop: loop, logger: logger)
        let (a, channelA) = try stream("a", on: loop)
        shard.add(a)
        for sequence in 1...5 { shard.enqueue(event(.broadcast, "n\(sequence)", sequence: UInt64(sequence))) }
        #expect(try writes(channelA).isEmpty)  // nothing until the loop runs its pass

        loop.run()

        let written = try writes(channelA)
        #expect(written.count == 1)
        #expect(written.first?.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } == (1...5).map { "data: n\($0)" })
    }

    @Test func aWriteDelayGathersTheEventsOfThatWhileIntoOneWrite() throws {
        let loop = EmbeddedEventLoop()
        let shard = HubShard(eventLoop: loop, writeDelay: .milliseconds(50), logger: logger)
        let (a, channelA) = try stream("a", on: loop)
        shard.add(a)
        shard.enqueue(event(.broadcast, "first", sequence: 1))
        loop.advanceTime(by: .milliseconds(30))
        shard.enqueue(event(.broadcast, "second", sequence: 2))
        #expect(try writes(channelA).isEmpty)

        loop.advanceTime(by: .milliseconds(20))

        let written = try writes(channelA)
        #expect(written.count == 1)
        #expect(written.first?.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") } == ["data: first", "data: second"])
        // The next event starts a new wait.
        shard.enqueue(event(.broadcast, "third", sequence: 3))
        loop.advanceTime(by: .milliseconds(49))
        #expect(try writes(channelA).isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(try writes(channelA).count == 1)
    }

    /// As many streams as make a pass count as large; the first is alice's.
    private func pacingStreams(in shard: HubShard, on loop: EmbeddedEventLoop) throws -> [EmbeddedChannel] {
        try (0..<HubShard.pacingStreams).map { index in
            let (connection, channel) = try stream("s\(index)", user: index == 0 ? "alice" : nil, on: loop)
            shard.add(connection)
            return channel
        }
    }

    @Test func onABusyLoopAPassToManyStreamsMakesTheNextWaitWithinTheBudgetAndAPassToFewDoesNot() throws {
        let loop = EmbeddedEventLoop()
        // Busy from the first pass on. A budget far longer than the pass, however slow the machine.
        let budget = TimeAmount.seconds(5)
        let shard = HubShard(eventLoop: loop, load: LoopLoad(busyFrom: 0, idleBelow: 0, window: .zero), pacingBudget: budget, logger: logger)
        let channels = try pacingStreams(in: shard, on: loop)
        // Two broadcasts right after one another: events come far closer together than the budget.
        shard.enqueue(event(.broadcast, "to all", sequence: 1))
        shard.enqueue(event(.broadcast, "and again", sequence: 2))
        loop.run()
        #expect(try writes(channels[999]).count == 1)
        #expect(try writes(channels[0]).count == 1)

        // That pass wrote to 1,000 streams: the next one waits, within the budget, for more events.
        shard.enqueue(event(.user("alice"), "soon after", sequence: 3))
        loop.run()
        #expect(try writes(channels[0]).isEmpty)
        loop.advanceTime(by: budget)
        #expect(try writes(channels[0]).count == 1)

        // That pass wrote to one stream: the next one goes at once.
        shard.enqueue(event(.user("alice"), "at once", sequence: 4))
        loop.run()
        #expect(try writes(channels[0]).count == 1)
    }

    @Test func aPassWaitsOnlyWhatTheBudgetLeavesAndOnlyIfEventsComeCloserTogetherThanThat() {
        let budget = TimeAmount.milliseconds(100)
        let ms = 1_000_000.0
        // 40 ms pass: 60 ms left; events 30 ms apart join within it.
        #expect(HubShard.pacing(took: .milliseconds(40), budget: budget, meanGap: 30 * ms) == .milliseconds(60))
        // Events 80 ms apart would not: no wait (work-conserving).
        #expect(HubShard.pacing(took: .milliseconds(40), budget: budget, meanGap: 80 * ms) == .zero)
        // A pass as long as the budget leaves nothing to wait.
        #expect(HubShard.pacing(took: .milliseconds(100), budget: budget, meanGap: 1 * ms) == .zero)
        #expect(HubShard.pacing(took: .milliseconds(150), budget: budget, meanGap: 1 * ms) == .zero)
        // Before a second event came, the gap is unknown: no wait.
        #expect(HubShard.pacing(took: .milliseconds(10), budget: budget, meanGap: .infinity) == .zero)
        // No budget, no pacing.
        #expect(HubShard.pacing(took: .milliseconds(10), budget: .zero, meanGap: 1 * ms) == .zero)
    }

    @Test func onALoopWithTimeToSpareNothingWaits() throws {
        let loop = EmbeddedEventLoop()
        let shard = HubShard(eventLoop: loop, load: LoopLoad(busyFrom: 2, idleBelow: 2, window: .zero), logger: logger)
        let channels = try pacingStreams(in: shard, on: loop)
        shard.enqueue(event(.broadcast, "to all", sequence: 1))
        loop.run()
        #expect(try writes(channels[0]).count == 1)
        shard.enqueue(event(.user("alice"), "right after", sequence: 2))
        loop.run()
        #expect(try writes(channels[0]).count == 1)
    }
}

/// When a loop counts as busy: by the share of its time its passes take, with hysteresis.
@Suite struct LoopLoadTests {
    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func at(_ milliseconds: Int64) -> NIODeadline { t0 + .milliseconds(milliseconds) }

    @Test func busyFromThreeQuartersUntilBelowHalf() {
        var load = LoopLoad(window: .milliseconds(100))
        var busy: [Bool] = []
        busy.append(load.record(passFrom: at(0), to: at(40)))  // window not over yet
        busy.append(load.record(passFrom: at(60), to: at(100)))  // 80 ms of 100: busy
        busy.append(load.record(passFrom: at(100), to: at(150)))
        busy.append(load.record(passFrom: at(190), to: at(200)))  // 60 ms of 100: still busy (not below half)
        busy.append(load.record(passFrom: at(280), to: at(300)))  // 20 ms of 100: idle
        #expect(busy == [false, true, true, true, false])
    }

    @Test func aLoopThatWasNotBusyNeedsThreeQuarters() {
        var load = LoopLoad(window: .milliseconds(100))
        var busy: [Bool] = []
        busy.append(load.record(passFrom: at(0), to: at(60)))
        busy.append(load.record(passFrom: at(90), to: at(100)))  // 70 ms of 100
        #expect(busy == [false, false])
    }
}
