import Foundation
import NIOConcurrencyHelpers

/// History kept in this process, with the same retention rules: for the standalone mode and unit tests.
public final class InProcessHistory: History {
    private struct Stream {
        var entries: [HistoryEntry] = []
        var maxDeleted = StreamPosition(milliseconds: 0)
        var last = StreamPosition(milliseconds: 0)

        /// Drops what `retention` no longer keeps, oldest first: past `maxLength`, or older than
        /// `maxAge` (all of it once the stream went that long without a new entry, as Redis expires it).
        mutating func trim(_ retention: HistoryRetention, now: UInt64) {
            let oldest = now &- retention.maxAgeMilliseconds
            while let first = entries.first, entries.count > retention.maxLength || first.position.milliseconds < oldest {
                maxDeleted = first.position
                entries.removeFirst()
            }
        }
    }
    private struct State {
        var streams: [Address: Stream] = [:]
        /// Publication id → when it completed.
        var completed: [String: UInt64] = [:]
        /// Claimed ids whose attempt has not settled → when they were claimed.
        var pending: [String: UInt64] = [:]
    }
    private let state = NIOLockedValueBox(State())
    private let retention: HistoryRetention

    public init(retention: HistoryRetention) {
        self.retention = retention
    }

    /// Completes from a task, like a store on another thread would: never inside the caller's own call.
    public func admit(
        _ admissions: [HistoryAdmission], completion: @escaping @Sendable (Result<[HistoryAdmission.Outcome], any Error>) -> Void
    ) {
        let outcomes = admitNow(admissions)
        Task { completion(.success(outcomes)) }
    }

    private func admitNow(_ admissions: [HistoryAdmission]) -> [HistoryAdmission.Outcome] {
        let now = RedisHistory.nowMilliseconds()
        return state.withLockedValue { state in
            admissions.map { admission in
                if let claim = admission.claim {
                    if let at = state.completed[claim], now &- at < retention.maxAgeMilliseconds { return .duplicate }
                    // A claim whose attempt never settled lapses, as the Redis key's expiry lets it.
                    if let at = state.pending[claim], now &- at < retention.claimLapseMilliseconds { return .inFlight }
                    state.pending[claim] = now
                }
                guard let stream = admission.stream else { return .accepted(position: nil) }
                return .accepted(position: append(admission.body, to: stream, now: now, in: &state))
            }
        }
    }

    private func append(_ body: [UInt8], to stream: Address, now: UInt64, in state: inout State) -> StreamPosition {
        var s = state.streams[stream] ?? Stream()
        // Like Redis: time-based ids, strictly increasing.
        let position = now > s.last.milliseconds
            ? StreamPosition(milliseconds: now) : StreamPosition(milliseconds: s.last.milliseconds, sequence: s.last.sequence + 1)
        s.last = position
        s.entries.append(HistoryEntry(position: position, body: body))
        s.trim(retention, now: now)
        state.streams[stream] = s
        return position
    }

    /// Trims first, as time alone has Redis trim (a stream's expiry): a reader never gets what Redis
    /// would no longer hold.
    public func read(_ stream: Address, after position: StreamPosition, limit: Int) async throws -> HistoryRead {
        let now = RedisHistory.nowMilliseconds()
        return state.withLockedValue { state in
            guard var s = state.streams[stream] else { return HistoryRead(entries: [], truncated: false) }
            s.trim(retention, now: now)
            state.streams[stream] = s
            let entries = s.entries.lazy.filter { $0.position > position }.prefix(max(1, limit))
            return HistoryRead(entries: Array(entries), truncated: s.maxDeleted > position)
        }
    }

    public func complete(_ eventIDs: [String]) async throws {
        let now = RedisHistory.nowMilliseconds()
        state.withLockedValue { state in
            for id in eventIDs {
                state.completed[id] = now
                state.pending.removeValue(forKey: id)
            }
        }
    }

    /// Withdrawn entries are not trimmed ones: `maxDeleted` stays, so readers see no truncation.
    public func withdraw(_ entries: [HistoryPosition], claims: [String]) async throws {
        state.withLockedValue { state in
            for entry in entries {
                state.streams[entry.stream]?.entries.removeAll { $0.position == entry.position }
            }
            for id in claims {
                state.completed.removeValue(forKey: id)
                state.pending.removeValue(forKey: id)
            }
        }
    }
}
