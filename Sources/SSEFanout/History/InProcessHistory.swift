import Foundation
import NIOConcurrencyHelpers

/// History kept in this process, with the same retention rules: for the standalone mode and unit tests.
public final class InProcessHistory: History {
    private struct Stream {
        var entries: [HistoryEntry] = []
        var maxDeleted = StreamPosition(milliseconds: 0)
        var last = StreamPosition(milliseconds: 0)
    }
    private struct State {
        var streams: [Address: Stream] = [:]
        /// Publication id → when it completed.
        var completed: [String: UInt64] = [:]
        /// Claimed ids whose attempt has not settled.
        var pending: Set<String> = []
    }
    private let state = NIOLockedValueBox(State())
    private let retention: HistoryRetention

    public init(retention: HistoryRetention) {
        self.retention = retention
    }

    /// Answers from a task, like a store on another thread would: callers never see their completion
    /// run inside their own call.
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
                    guard state.pending.insert(claim).inserted else { return .inFlight }
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
        let oldest = now &- retention.maxAgeMilliseconds
        while let first = s.entries.first, s.entries.count > retention.maxLength || first.position.milliseconds < oldest {
            s.maxDeleted = first.position
            s.entries.removeFirst()
        }
        state.streams[stream] = s
        return position
    }

    public func read(_ stream: Address, after position: StreamPosition, limit: Int) async throws -> HistoryRead {
        state.withLockedValue { state in
            guard let s = state.streams[stream] else { return HistoryRead(entries: [], truncated: false) }
            let entries = s.entries.lazy.filter { $0.position > position }.prefix(max(1, limit))
            return HistoryRead(entries: Array(entries), truncated: s.maxDeleted > position)
        }
    }

    public func complete(_ eventIDs: [String]) async throws {
        let now = RedisHistory.nowMilliseconds()
        state.withLockedValue { state in
            for id in eventIDs {
                state.completed[id] = now
                state.pending.remove(id)
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
                state.pending.remove(id)
            }
        }
    }
}
