import SSEClient
import NIOConcurrencyHelpers

/// Everything one client received and did, written from its reading task and read by the checker.
final class ClientLog: Sendable {
    struct Received: Sendable {
        var seq: Int
        var latencyMicros: Int64
        var at: ContinuousClock.Instant
    }

    struct Snapshot: Sendable {
        var received: [Received] = []
        var resets = 0
        /// Numbered events of another run or another user, or whose data did not parse.
        var foreign = 0
        /// Named events other than `n`, `connected` and `reset`.
        var otherEvents = 0
        /// `connected` events: one per stream the server opened for this client.
        var connections = 0
        var nodesVisited: [Int] = []
        var lastEventID: String?
        /// The server's `retry:` hint in milliseconds.
        var retryMillis: Int?
        var streamEnds = 0
        /// The latest few reasons a stream ended.
        var recentEndReasons: [String] = []
        var distinctSeqs: Set<Int> = []
        var stall: StallOutcome?
        var lastEventAt: ContinuousClock.Instant?
    }

    let plan: ClientPlan
    private let run: String
    private let state = NIOLockedValueBox(Snapshot())

    init(plan: ClientPlan, run: String) {
        self.plan = plan
        self.run = run
    }

    func record(_ event: SSEEvent, fromNode port: Int) {
        let receivedAt = ScenarioClock.wallMicroseconds()
        let now = ContinuousClock.now
        state.withLockedValue { state in
            // Like EventSource: the last id seen, kept across reconnects, is what the next connect sends.
            if let id = event.id { state.lastEventID = id }
            if let retry = event.retry { state.retryMillis = retry }
            switch event.event {
            case "connected":
                state.connections += 1
                state.nodesVisited.append(port)
            case "reset":
                state.resets += 1
            case NumberedEvent.eventName:
                guard let payload = NumberedEvent.payload(of: event), payload.run == run, payload.user == plan.user else {
                    state.foreign += 1
                    return
                }
                state.received.append(Received(seq: payload.seq, latencyMicros: receivedAt - payload.sentAt, at: now))
                state.distinctSeqs.insert(payload.seq)
                state.lastEventAt = now
            default:
                state.otherEvents += 1
            }
        }
    }

    func recordStreamEnd(_ reason: String) {
        state.withLockedValue { state in
            state.streamEnds += 1
            state.recentEndReasons.append(reason)
            if state.recentEndReasons.count > 3 { state.recentEndReasons.removeFirst() }
        }
    }

    /// The server's latest `retry:` value, whether it came with an event or alone.
    func recordRetryHint(_ milliseconds: Int) {
        state.withLockedValue { $0.retryMillis = milliseconds }
    }

    func recordStall(_ outcome: StallOutcome) {
        state.withLockedValue { $0.stall = outcome }
    }

    var lastEventID: String? { state.withLockedValue { $0.lastEventID } }
    var retryMillis: Int? { state.withLockedValue { $0.retryMillis } }
    var connections: Int { state.withLockedValue { $0.connections } }

    /// Whether every sequence number in `expected` has arrived.
    func hasAll(_ expected: Set<Int>) -> Bool {
        state.withLockedValue { expected.isSubset(of: $0.distinctSeqs) }
    }

    var lastEventAt: ContinuousClock.Instant? { state.withLockedValue { $0.lastEventAt } }

    var snapshot: Snapshot { state.withLockedValue { $0 } }
}
