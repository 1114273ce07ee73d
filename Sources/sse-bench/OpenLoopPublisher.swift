import NIOConcurrencyHelpers
import NIOCore

/// Publishes at a fixed rate, open loop: publish `i` is due at `start + i / rate` and is sent then, whether
/// or not earlier ones were answered (a publisher that waits would slow down with the server and hide its
/// queueing); see `OpenLoopSchedule`. Publishes due together are sent back to back. At most `maxInFlight`
/// wait for an answer; a publish due beyond that is skipped and counted.
///
/// Each body is made just before it is sent, with that moment's time (`NIODeadline`'s monotonic clock,
/// the one the subscribers read), so latency runs from the send to the read.
struct OpenLoopPublisher {
    let transport: any PublishTransport
    /// Publishes per second.
    let rate: Double
    let count: Int
    let maxInFlight: Int
    let counters: LiveCounters
    /// The body of publish `sequence`, sent at `sentAt`.
    let makeBody: @Sendable (_ sequence: Int, _ sentAt: UInt64) -> [UInt8]

    func run() async -> PublishOutcome {
        let outcome = NIOLockedValueBox(PublishOutcome())
        let inFlight = NIOLockedValueBox(0)
        var schedule = OpenLoopSchedule(rate: rate, count: count)
        outcome.withLockedValue { $0.startedAt = schedule.start.uptimeNanoseconds }
        await withDiscardingTaskGroup { tasks in
            while case let due = await schedule.due(), !due.isEmpty {
                for sequence in due {
                    let admitted = inFlight.withLockedValue { count in
                        guard count < maxInFlight else { return false }
                        count += 1
                        return true
                    }
                    outcome.withLockedValue {
                        $0.attempted += 1
                        if !admitted { $0.skipped += 1 }
                    }
                    guard admitted else {
                        counters.update { $0.skipped += 1 }
                        continue
                    }
                    counters.update { $0.published += 1 }
                    // Sent here, in sequence order; only the wait for the answer is a task of its own.
                    let answer = transport.send(makeBody(sequence, NIODeadline.now().uptimeNanoseconds))
                    tasks.addTask { [counters] in
                        let answer = await answer()
                        inFlight.withLockedValue { $0 -= 1 }
                        switch answer {
                        case .accepted:
                            outcome.withLockedValue { $0.accepted += 1 }
                            counters.update { $0.accepted += 1 }
                        case .failed(let reason):
                            outcome.withLockedValue {
                                $0.failed += 1
                                if $0.firstError == nil { $0.firstError = reason }
                            }
                            counters.update { $0.publishFailed += 1 }
                        }
                    }
                }
            }
        }
        return outcome.withLockedValue { result in
            result.maximumStartLag = schedule.maximumLag
            result.seconds = Double((NIODeadline.now() - schedule.start).nanoseconds) / 1e9
            return result
        }
    }
}
