import NIOConcurrencyHelpers

/// What the publisher got accepted, per user — the checker's notion of "published" — and what it had
/// to retry or gave up on.
final class PublishLedger: Sendable {
    /// Totals for the report.
    struct Summary: Sendable, Encodable {
        var accepted = 0
        var abandoned = 0
        var attempts = 0
        /// Failed attempts by cause ("HTTP 503", "connect failed", "timeout", ...); each was retried.
        var failedAttempts: [String: Int] = [:]
        /// Accepted with `"nodes": 0`: no live connection of the user was found.
        var acceptedForNoNode = 0
        /// Accepted with `"stored": true` (servers that keep events for offline users say so).
        var acceptedAsStored = 0
        /// The first few reasons events were given up, for diagnosis.
        var abandonReasons: [String] = []
    }

    private struct State {
        var accepted: [Int: Set<Int>] = [:]
        var summary = Summary()
    }

    private let state = NIOLockedValueBox(State())

    func recordAttempt() {
        state.withLockedValue { $0.summary.attempts += 1 }
    }

    func recordFailedAttempt(_ cause: String) {
        state.withLockedValue { $0.summary.failedAttempts[cause, default: 0] += 1 }
    }

    func recordAccepted(user: Int, seq: Int, nodes: Int?, stored: Bool?) {
        state.withLockedValue { state in
            state.accepted[user, default: []].insert(seq)
            state.summary.accepted += 1
            if nodes == 0 { state.summary.acceptedForNoNode += 1 }
            if stored == true { state.summary.acceptedAsStored += 1 }
        }
    }

    func recordAbandoned(user: Int, seq: Int, reason: String) {
        state.withLockedValue { state in
            state.summary.abandoned += 1
            if state.summary.abandonReasons.count < 5 {
                state.summary.abandonReasons.append("chaos-\(user) #\(seq): \(reason)")
            }
        }
    }

    /// The sequence numbers of `user` that some node answered 202 for.
    func acceptedSeqs(ofUser user: Int) -> Set<Int> {
        state.withLockedValue { $0.accepted[user] ?? [] }
    }

    var summary: Summary { state.withLockedValue { $0.summary } }
}
