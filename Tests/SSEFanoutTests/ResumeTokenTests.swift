import NIOCore
import Testing

@testable import SSEFanout

@Suite struct ResumeTokenTests {
    private let at = StreamPosition(milliseconds: 1_700_000_000_000, sequence: 0)

    @Test func roundTripsThroughText() throws {
        var token = ResumeToken(streams: [.user("alice"), .broadcast, .channel("news")], at: at)
        token.advance(.channel("news"), to: StreamPosition(milliseconds: 1_700_000_000_123, sequence: 7))
        let text = token.text
        #expect(text.hasPrefix("1.u~"))
        let parsed = try #require(ResumeToken(text: text))
        #expect(parsed == token)
        #expect(parsed.position(of: .channel("news")) == StreamPosition(milliseconds: 1_700_000_000_123, sequence: 7))
        #expect(parsed.position(of: .user("alice")) == at)
        #expect(parsed.position(of: .channel("sport")) == nil)
    }

    @Test(arguments: [0, 1, 35, 36, 1295, 1296, 1_700_000_000_123, UInt64.max])
    func writesTheSameBytesAsItsText(value: UInt64) {
        let token = ResumeToken(positions: [("u", StreamPosition(milliseconds: value, sequence: value / 7)), ("c1x3k9z", StreamPosition(milliseconds: 1, sequence: value))])
        var buffer = ByteBuffer()
        token.write(to: &buffer)
        #expect(String(buffer: buffer) == token.text)
        #expect(token.text.hasSuffix("~1-" + String(value, radix: 36)))
    }

    /// The `id:` line each event carries: the token's text, whatever its size (a client may bring a long
    /// token of its own; past the stack's scratch it is written piece by piece).
    @Test(arguments: [0, 1, 3, 40])
    func writesItsIDLineAsIDThenItsText(positions count: Int) {
        let tags = (0..<count).map { $0 == 2 ? String(repeating: "t", count: 60) : "c\(String($0, radix: 36))" }
        let token = ResumeToken(positions: tags.enumerated().map { ($1, StreamPosition(milliseconds: UInt64.max >> $0, sequence: UInt64($0))) })
        var buffer = ByteBuffer(string: "data: before\n\n")
        token.writeIDLine(to: &buffer)
        #expect(String(buffer: buffer) == "data: before\n\nid: " + token.text + "\n")
    }

    @Test func advancesOnlyForward() {
        var token = ResumeToken(streams: [.broadcast], at: at)
        let later = StreamPosition(milliseconds: at.milliseconds, sequence: 1)
        let forward = token.advance(.broadcast, to: later)
        let again = token.advance(.broadcast, to: later)
        let back = token.advance(.broadcast, to: at)
        #expect(forward && !again && !back)
        #expect(token.position(of: .broadcast) == later)
    }

    @Test(arguments: ["", "42", "01M7ZTTWSTNBMA4PHKRAKC23C6", "2.u~1-0", "1.u~zz", "1.~1-0", "1.u~1-!"])
    func refusesForeignIds(text: String) {
        #expect(ResumeToken(text: text) == nil)
    }

    @Test func positionsOrderLikeRedisStreamIds() {
        #expect(StreamPosition("5-1")! < StreamPosition("5-2")!)
        #expect(StreamPosition("5-9")! < StreamPosition("6-0")!)
        #expect(StreamPosition("bad") == nil)
        #expect(StreamPosition("1700000000000-3")?.description == "1700000000000-3")
    }

    @Test func channelTagsDifferPerChannelAndStayStable() {
        #expect(Address.channel("a").tag != Address.channel("b").tag)
        #expect(Address.channel("news").tag == Address.channel("news").tag)
    }
}

@Suite struct InProcessHistoryTests {
    @Test func keepsByCountAndReportsWhatWasDropped() async throws {
        let history = InProcessHistory(retention: HistoryRetention(maxLength: 3, maxAge: .seconds(60)))
        var positions: [StreamPosition] = []
        for n in 0..<5 {
            let outcome = try await history.admit([HistoryAdmission(claim: nil, stream: .user("u"), body: Array("\(n)".utf8))])
            guard case .accepted(let position?) = outcome[0] else { Issue.record("not kept: \(outcome)"); return }
            positions.append(position)
        }
        let all = try await history.read(.user("u"), after: StreamPosition(milliseconds: 0))
        #expect(all.entries.map { String(decoding: $0.body, as: UTF8.self) } == ["2", "3", "4"])
        #expect(all.truncated)
        let recent = try await history.read(.user("u"), after: positions[2])
        #expect(recent.entries.count == 2 && !recent.truncated)
    }

    @Test func anIdCountsAsPublishedOnceCompletedAndIsHeldWhileInFlight() async throws {
        let history = InProcessHistory(retention: HistoryRetention())
        let claim = [HistoryAdmission(claim: "a", stream: nil, body: [])]
        #expect(try await history.admit(claim) == [.accepted(position: nil)])
        // While the first attempt holds the claim, another is refused: one id, one copy.
        #expect(try await history.admit(claim) == [.inFlight])
        // The first attempt failed and let go of it: its retry goes through.
        try await history.withdraw([], claims: ["a"])
        #expect(try await history.admit(claim) == [.accepted(position: nil)])
        try await history.complete(["a"])
        #expect(try await history.admit(claim) == [.duplicate])
        try await history.withdraw([], claims: ["a"])
        #expect(try await history.admit(claim) == [.accepted(position: nil)])
    }
}
