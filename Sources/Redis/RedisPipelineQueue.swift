import Synchronization

/// Commands handed to a `RedisClient` and not yet sent, in submission order.
///
/// Whatever queues up while the worker thread is busy goes out together on its next turn: all of
/// it written before any reply is read, so callers that issue commands at the same moment (a
/// history step and a registry lookup, registrations while events are routed) share one round trip
/// and one wake-up of the thread. Each caller still gets exactly its own replies.
final class RedisPipelineQueue: Sendable {
    struct Entry: Sendable {
        var commands: [[[UInt8]]]
        var queuedAt: ContinuousClock.Instant
        var completion: @Sendable (Result<[RedisValue], RedisError>) -> Void
    }

    private struct State {
        var entries: [Entry] = []
        /// A turn of the worker thread is already booked to send what is here.
        var turnBooked = false
    }

    private let state = Mutex(State())

    /// Queues `entry`; true when the caller must book a turn of the worker thread for it.
    func append(_ entry: Entry) -> Bool {
        state.withLock { state in
            state.entries.append(entry)
            if state.turnBooked { return false }
            state.turnBooked = true
            return true
        }
    }

    /// Everything queued, oldest first; the next `append` books a new turn.
    func takeAll() -> [Entry] {
        state.withLock { state in
            defer {
                state.entries = []
                state.turnBooked = false
            }
            return state.entries
        }
    }
}
