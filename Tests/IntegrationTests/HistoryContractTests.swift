import Foundation
import SSEFanout
import Testing

/// What every history must do, as `History` documents it: the same tests against `InProcessHistory`
/// and `RedisHistory` (a key prefix of its own on the test Redis).
@Suite struct HistoryContractTests {
    /// Keeps each text in `stream` (one admission each, in one batch) and returns their positions.
    private func keep(_ texts: [String], in stream: Address, _ history: any History) async throws -> [StreamPosition] {
        let outcomes = try await history.admit(texts.map { HistoryAdmission(claim: nil, stream: stream, body: Array($0.utf8)) })
        return try outcomes.map { outcome in
            guard case .accepted(let position?) = outcome else { throw Unexpected(outcome: outcome) }
            return position
        }
    }

    private struct Unexpected: Error {
        var outcome: HistoryAdmission.Outcome
    }

    private func texts(_ read: HistoryRead) -> [String] {
        read.entries.map { String(decoding: $0.body, as: UTF8.self) }
    }

    /// A position from `milliseconds` ago: where a reader who connected then stands.
    private func position(ago milliseconds: UInt64) -> StreamPosition {
        StreamPosition(milliseconds: UInt64(Date().timeIntervalSince1970 * 1000) - milliseconds)
    }

    private static let start = StreamPosition(milliseconds: 0)

    /// Bodies are kept in their stream in the order admitted, each at a position after the one before,
    /// and read back as they were kept; other streams keep their own.
    @Test(arguments: HistoryKind.allCases)
    func admittedBodiesAreKeptInOrderAtRisingPositions(_ kind: HistoryKind) async throws {
        try await kind.make().use { history in
            let before = position(ago: 1000)
            let outcomes = try await history.admit([
                HistoryAdmission(claim: nil, stream: .user("alice"), body: Array("a1".utf8)),
                HistoryAdmission(claim: nil, stream: .channel("news", tenant: "acme"), body: Array("n1".utf8)),
                HistoryAdmission(claim: nil, stream: .user("alice"), body: Array("a2".utf8)),
                HistoryAdmission(claim: nil, stream: nil, body: []),
                HistoryAdmission(claim: nil, stream: .user("alice"), body: [0, 10, 13, 255]),
            ])
            #expect(outcomes[3] == .accepted(position: nil), "nothing kept without a stream")
            let later = try await keep(["a3", "a4"], in: .user("alice"), history)
            let positions = [outcomes[0], outcomes[2], outcomes[4]].compactMap { outcome -> StreamPosition? in
                guard case .accepted(let position) = outcome else { return nil }
                return position
            } + later
            #expect(positions.count == 5 && positions == positions.sorted() && Set(positions).count == 5)

            let alice = try await history.read(.user("alice"), after: before)
            #expect(alice.entries.map(\.position) == positions && !alice.truncated)
            #expect(alice.entries[2].body == [0, 10, 13, 255])
            #expect(texts(try await history.read(.channel("news", tenant: "acme"), after: before)) == ["n1"])
            #expect(try await history.read(.channel("news"), after: before) == HistoryRead(entries: [], truncated: false), "another tenant's")
            #expect(texts(try await history.read(.user("alice"), after: Self.start)) == ["a1", "a2", String(decoding: [0, 10, 13, 255], as: UTF8.self), "a3", "a4"])
        }
    }

    /// A read returns what follows the position, oldest first, at most `limit` (at least one), so
    /// reading on from the last entry returned pages through the stream.
    @Test(arguments: HistoryKind.allCases)
    func readsPageThroughWhatFollowsAPosition(_ kind: HistoryKind) async throws {
        try await kind.make().use { history in
            let texts = (0..<10).map { "e\($0)" }
            let positions = try await keep(texts, in: .user("alice"), history)
            var pages: [[String]] = []
            var after = positions[1]
            while true {
                let page = try await history.read(.user("alice"), after: after, limit: 3)
                #expect(!page.truncated)
                guard let last = page.entries.last else { break }
                pages.append(self.texts(page))
                after = last.position
            }
            #expect(pages == [["e2", "e3", "e4"], ["e5", "e6", "e7"], ["e8", "e9"]])
            #expect(self.texts(try await history.read(.user("alice"), after: positions[4], limit: 0)) == ["e5"])
            #expect(try await history.read(.user("alice"), after: positions[9]) == HistoryRead(entries: [], truncated: false))
            // A position between two entries (a reader's clock, not an entry's id).
            let between = StreamPosition(milliseconds: positions[0].milliseconds, sequence: positions[0].sequence + 1)
            let fromBetween = try await history.read(.user("alice"), after: between)
            #expect(fromBetween.entries.first?.position == positions.first { $0 > between } && !fromBetween.truncated)
        }
    }

    /// An id is claimed once: while its attempt holds it, another is in flight; once completed, a
    /// duplicate; neither keeps anything, in the same batch or another.
    @Test(arguments: HistoryKind.allCases)
    func anIdIsAdmittedOnce(_ kind: HistoryKind) async throws {
        try await kind.make().use { history in
            let before = position(ago: 1000)
            let first = HistoryAdmission(claim: "acme|x", stream: .user("alice"), body: Array("first".utf8))
            let retry = HistoryAdmission(claim: "acme|x", stream: .user("alice"), body: Array("retry".utf8))
            let outcomes = try await history.admit([first, retry, HistoryAdmission(claim: "acme|y", stream: .user("alice"), body: Array("y".utf8))])
            #expect(outcomes[0].isAccepted && outcomes[1] == .inFlight && outcomes[2].isAccepted)
            #expect(try await history.admit([retry]) == [.inFlight])
            try await history.complete(["acme|x"])
            #expect(try await history.admit([retry]) == [.duplicate])
            #expect(try await history.admit([HistoryAdmission(claim: "acme|x", stream: nil, body: [])]) == [.duplicate])
            #expect(texts(try await history.read(.user("alice"), after: before)) == ["first", "y"])
            // A claim without a stream holds as well.
            #expect(try await history.admit([HistoryAdmission(claim: "acme|z", stream: nil, body: [])]) == [.accepted(position: nil)])
            #expect(try await history.admit([HistoryAdmission(claim: "acme|z", stream: nil, body: [])]) == [.inFlight])
        }
    }

    /// A withdrawn publication leaves neither its entry nor its claim (pending or completed): its retry
    /// is kept once, and readers see no gap where it was.
    @Test(arguments: HistoryKind.allCases)
    func aWithdrawnPublicationLeavesNothingBehind(_ kind: HistoryKind) async throws {
        try await kind.make().use { history in
            let before = position(ago: 1000)
            let first = try await keep(["one"], in: .user("alice"), history)[0]
            let failed = try await history.admit([HistoryAdmission(claim: "|w", stream: .user("alice"), body: Array("failed".utf8))])
            guard case .accepted(let failedAt?) = failed[0] else { Issue.record("not kept: \(failed)"); return }
            _ = try await keep(["three"], in: .user("alice"), history)
            try await history.withdraw([HistoryPosition(stream: .user("alice"), position: failedAt)], claims: ["|w"])

            let fromFirst = try await history.read(.user("alice"), after: first)
            #expect(texts(fromFirst) == ["three"] && !fromFirst.truncated)
            let fromBefore = try await history.read(.user("alice"), after: before)
            #expect(texts(fromBefore) == ["one", "three"] && !fromBefore.truncated)
            #expect(try await history.admit([HistoryAdmission(claim: "|w", stream: .user("alice"), body: Array("retried".utf8))]).allSatisfy(\.isAccepted))
            #expect(texts(try await history.read(.user("alice"), after: before)) == ["one", "three", "retried"])

            // A completed claim goes too.
            _ = try await history.admit([HistoryAdmission(claim: "|done", stream: nil, body: [])])
            try await history.complete(["|done"])
            try await history.withdraw([], claims: ["|done"])
            #expect(try await history.admit([HistoryAdmission(claim: "|done", stream: nil, body: [])]) == [.accepted(position: nil)])
        }
    }

    /// Past `maxLength` the oldest entries go (Redis trims whole blocks, so it may keep more): a read
    /// says truncated exactly when an entry right after its position is gone, and otherwise returns
    /// everything after it.
    @Test(arguments: HistoryKind.allCases)
    func trimmingByLengthKeepsTheNewestAndReportsTheGap(_ kind: HistoryKind) async throws {
        try await kind.make(HistoryRetention(maxLength: 10)).use { history in
            let before = position(ago: 1000)
            var positions: [StreamPosition] = []
            for batch in 0..<5 {
                positions += try await keep((0..<50).map { "e\(batch * 50 + $0)" }, in: .user("alice"), history)
            }
            let all = try await history.read(.user("alice"), after: before)
            let kept = all.entries.map(\.position)
            #expect(kept.count >= 10 && kept.count < 250, "trimmed, to no fewer than maxLength")
            #expect(kept == Array(positions.suffix(kept.count)), "the newest are kept")
            #expect(all.truncated)
            #expect(try await history.read(.user("alice"), after: Self.start).truncated)
            for index in [0, 100, 200, 238, 239, 240, 245, 248] {
                let read = try await history.read(.user("alice"), after: positions[index])
                let next = positions[index + 1]
                #expect(read.truncated == !kept.contains(next), "after entry \(index)")
                if !read.truncated { #expect(read.entries.map(\.position) == Array(positions[(index + 1)...])) }
            }
        }
    }

    /// A stream left without a new entry for `maxAge` is gone: a reader from before its entries is
    /// told they were missed, also once the stream is kept again; a reader from after them is not.
    @Test(arguments: HistoryKind.allCases)
    func aStreamLeftIdleForMaxAgeExpires(_ kind: HistoryKind) async throws {
        try await kind.make(HistoryRetention(maxAge: .seconds(2))).use { history in
            let before = position(ago: 10)
            _ = try await keep(["old"], in: .channel("news"), history)
            try await Task.sleep(for: .milliseconds(2500))
            let expired = try await history.read(.channel("news"), after: before)
            #expect(expired.entries.isEmpty && expired.truncated)
            let since = position(ago: 1)
            _ = try await keep(["new"], in: .channel("news"), history)
            let again = try await history.read(.channel("news"), after: before)
            #expect(texts(again) == ["new"] && again.truncated)
            let fresh = try await history.read(.channel("news"), after: since)
            #expect(texts(fresh) == ["new"] && !fresh.truncated)
        }
    }

    /// A completed id counts as a duplicate for `maxAge`, and is admitted again after.
    @Test(arguments: HistoryKind.allCases)
    func aCompletedIdIsADuplicateForMaxAge(_ kind: HistoryKind) async throws {
        try await kind.make(HistoryRetention(maxAge: .seconds(2))).use { history in
            let admission = HistoryAdmission(claim: "|d", stream: nil, body: [])
            #expect(try await history.admit([admission]) == [.accepted(position: nil)])
            try await history.complete(["|d"])
            #expect(try await history.admit([admission]) == [.duplicate])
            try await Task.sleep(for: .milliseconds(2500))
            #expect(try await history.admit([admission]) == [.accepted(position: nil)])
        }
    }

    /// A claim whose attempt never settles (its node died) lets go after `claimLapse`.
    @Test(arguments: HistoryKind.allCases)
    func anAbandonedClaimLapses(_ kind: HistoryKind) async throws {
        try await kind.make(HistoryRetention(claimLapse: .seconds(2))).use { history in
            let admission = HistoryAdmission(claim: "|l", stream: nil, body: [])
            #expect(try await history.admit([admission]) == [.accepted(position: nil)])
            #expect(try await history.admit([admission]) == [.inFlight])
            try await Task.sleep(for: .milliseconds(2500))
            #expect(try await history.admit([admission]) == [.accepted(position: nil)])
        }
    }

    /// `admit` never completes inside the caller's own call, whatever it is asked: a caller on an
    /// event loop, or holding a lock, must not be re-entered.
    @Test(arguments: HistoryKind.allCases)
    func admitNeverCompletesInsideTheCall(_ kind: HistoryKind) async throws {
        try await kind.make().use { history in
            let batches: [[HistoryAdmission]] = [
                [],
                [HistoryAdmission(claim: nil, stream: nil, body: [])],
                [HistoryAdmission(claim: "|c", stream: nil, body: [])],
                [HistoryAdmission(claim: nil, stream: .user("alice"), body: Array("kept".utf8))],
                [HistoryAdmission(claim: "|c", stream: .user("alice"), body: Array("in flight".utf8))],
            ]
            for batch in batches {
                let (outcomes, inside) = await CompletionProbe.call { history.admit(batch, completion: $0) }
                #expect(!inside, "admit(\(batch)) completed inside the call")
                let admitted = try outcomes.get()
                #expect(admitted.count == batch.count)
            }
        }
    }
}
