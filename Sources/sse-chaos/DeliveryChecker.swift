/// Compares what each client received with what was published for its user.
///
/// Every client is connected before the first event is published, so every event accepted for a user
/// is owed to every client of that user — including clients that were offline or stalled for a while,
/// since they reconnect with their last event id.
enum DeliveryChecker {
    /// Lost events are listed as at most this many ranges in the JSON report.
    static let maximumRanges = 20

    static func verdict(for log: ClientLog.Snapshot, plan: ClientPlan, published: Set<Int>) -> ClientVerdict {
        var highest = Int.min
        var outOfOrder = 0
        for event in log.received {
            if event.seq < highest { outOfOrder += 1 }
            highest = max(highest, event.seq)
        }
        let lost = published.subtracting(log.distinctSeqs)
        return ClientVerdict(
            client: plan.name,
            user: NumberedEvent.userID(plan.user),
            published: published.count,
            received: log.received.count,
            distinct: log.distinctSeqs.count,
            lost: lost.count,
            lostSeqs: ranges(lost),
            duplicated: log.received.count - log.distinctSeqs.count,
            outOfOrder: outOfOrder,
            resets: log.resets,
            unconfirmed: log.distinctSeqs.subtracting(published).count,
            foreign: log.foreign,
            connections: log.connections,
            nodes: log.nodesVisited,
            latency: LatencySummary(microseconds: log.received.map(\.latencyMicros)),
            stall: log.stall,
            lastStreamEnds: log.recentEndReasons
        )
    }

    /// `[3, 4, 5, 9]` → `["3-5", "9"]`.
    static func ranges(_ seqs: Set<Int>) -> [String] {
        var ranges: [String] = []
        var sorted = seqs.sorted()[...]
        while let first = sorted.first, ranges.count < maximumRanges {
            var last = first
            sorted = sorted.dropFirst()
            while sorted.first == last + 1 {
                last += 1
                sorted = sorted.dropFirst()
            }
            ranges.append(first == last ? String(first) : "\(first)-\(last)")
        }
        return ranges
    }
}
