import ClientRuntime
import Foundation
import NIOCore
import NIOPosix
import SSEClient

/// A careful backend: publishes numbered events to users round-robin at a fixed total rate (a user
/// with a `UserTraffic.weight` gets more turns), each to the next
/// live node, and retries a failed publish (connect error, timeout, 5xx) with the same id on another
/// node until one answers 202 or `giveUpAfter` passes.
///
/// Each user's events go out one after another (event N+1 only once N was accepted or given up), so the
/// order a client sees is the server's doing, never the publisher's. The ticker does not wait for them:
/// during an outage events queue up per user and drain once nodes accept again.
struct NumberedPublisher: Sendable {
    let run: String
    let users: Int
    let rate: Double
    let cluster: ChaosCluster
    let ledger: PublishLedger
    /// Users whose events are bigger or more frequent than the rest.
    let traffic: [Int: UserTraffic]
    let giveUpAfter: Duration
    private let http = HTTPClient()
    private static let retryBackoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1))

    init(
        run: String, users: Int, rate: Double, cluster: ChaosCluster, ledger: PublishLedger,
        traffic: [Int: UserTraffic], giveUpAfter: Duration
    ) {
        self.run = run
        self.users = users
        self.rate = rate
        self.cluster = cluster
        self.ledger = ledger
        self.traffic = traffic
        self.giveUpAfter = giveUpAfter
    }

    /// Ticks from `clock.origin` for `duration`, then returns once every queued event was accepted or
    /// given up.
    func run(for duration: Duration, clock: ScenarioClock) async {
        await withTaskGroup(of: Void.self) { group in
            var queues: [AsyncStream<DueEvent>.Continuation] = []
            for user in 0..<users {
                let (events, queue) = AsyncStream.makeStream(of: DueEvent.self)
                queues.append(queue)
                group.addTask {
                    for await event in events { await publish(event, user: user) }
                }
            }
            let interval = Duration.seconds(1 / rate)
            let turns = schedule()
            var lastSeq = Array(repeating: 0, count: users)
            var tick = 0
            // Deadline-based ticks: a slow tick does not shift the ones after it.
            while interval * tick < duration {
                do {
                    try await clock.sleep(untilOffset: interval * tick)
                } catch {
                    break
                }
                let user = turns[tick % turns.count]
                lastSeq[user] += 1
                queues[user].yield(DueEvent(seq: lastSeq[user], due: .now, sentAt: ScenarioClock.wallMicroseconds()))
                tick += 1
            }
            for queue in queues { queue.finish() }
        }
    }

    /// One round-robin cycle: every user once, then the users with a weight above one again until
    /// each had its share.
    private func schedule() -> [Int] {
        let rounds = traffic.values.map(\.weight).max() ?? 1
        return (0..<max(1, rounds)).flatMap { round in
            (0..<users).filter { round < (traffic[$0]?.weight ?? 1) }
        }
    }

    /// An event whose time has come, waiting for its user's earlier events to be accepted.
    private struct DueEvent: Sendable {
        var seq: Int
        var due: ContinuousClock.Instant
        var sentAt: Int64
    }

    private func publish(_ event: DueEvent, user: Int) async {
        let seq = event.seq
        let body = NumberedEvent.publishBody(run: run, user: user, seq: seq, sentAt: event.sentAt, padding: traffic[user]?.padding ?? 0)
        // Counted from when the event was due, so a queue that built up in an outage gives up together.
        let giveUp = event.due + giveUpAfter
        var failedNode: Int?
        var attempt = 0
        while true {
            if let port = cluster.pickLivePort(avoiding: failedNode) {
                attempt += 1
                ledger.recordAttempt()
                switch await post(body, to: port) {
                case .accepted(let nodes, let stored):
                    ledger.recordAccepted(user: user, seq: seq, nodes: nodes, stored: stored)
                    return
                case .retry(let cause):
                    ledger.recordFailedAttempt(cause)
                    failedNode = port
                case .refused(let reason):
                    ledger.recordAbandoned(user: user, seq: seq, reason: reason)
                    return
                }
            }
            guard ContinuousClock.now < giveUp else {
                ledger.recordAbandoned(user: user, seq: seq, reason: "not accepted within \(giveUpAfter) (\(attempt) attempts)")
                return
            }
            // Exponential backoff from 100 ms, at most 1 s, like a backend that does not hammer a sick cluster.
            do {
                try await Task.sleep(for: Self.retryBackoff.step(afterFailures: attempt))
            } catch {
                ledger.recordAbandoned(user: user, seq: seq, reason: "cancelled")
                return
            }
        }
    }

    private enum Outcome {
        case accepted(nodes: Int?, stored: Bool?)
        /// Worth retrying elsewhere: the event may or may not have gone out (the id makes that safe).
        case retry(String)
        /// A 4xx: the request itself is wrong; retrying cannot help.
        case refused(String)
    }

    private func post(_ body: [UInt8], to port: Int) async -> Outcome {
        do {
            let response = try await http.request(
                "POST", "http://127.0.0.1:\(port)/publish",
                headers: [("Content-Type", "application/json")], body: body, timeout: .seconds(5)
            )
            switch response.status {
            case 202:
                let answer = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
                return .accepted(nodes: (answer?["nodes"] as? NSNumber)?.intValue, stored: answer?["stored"] as? Bool)
            case 500..<600:
                return .retry("HTTP \(response.status)")
            case 409:
                // Another attempt with this id has not settled yet (its node may have died holding it).
                return .retry("in flight")
            default:
                return .refused("HTTP \(response.status): \(response.bodyString.prefix(200))")
            }
        } catch SSEClientError.timeout {
            return .retry("timeout")
        } catch SSEClientError.connectionClosed {
            return .retry("connection closed")
        } catch is NIOConnectionError {
            return .retry("connect failed")
        } catch let error as IOError {
            return .retry(String(cString: strerror(error.errnoCode)).lowercased())
        } catch {
            return .retry("\(error)")
        }
    }
}
