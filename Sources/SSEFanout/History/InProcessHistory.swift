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
        var streams: [HistoryStream: Stream] = [:]
        /// Publication id → when it completed.
        var completed: [String: UInt64] = [:]
    }
    private let state = NIOLockedValueBox(State())
    private let retention: HistoryRetention

    public init(retention: HistoryRetention) {
        self.retention = retention
    }

    public func append(_ body: [UInt8], to stream: HistoryStream) async throws -> StreamPosition {
        let now = RedisHistory.nowMilliseconds()
        return state.withLockedValue { state in
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
    }

    public func read(_ stream: HistoryStream, after position: StreamPosition) async throws -> HistoryRead {
        state.withLockedValue { state in
            guard let s = state.streams[stream] else { return HistoryRead(entries: [], truncated: false) }
            return HistoryRead(entries: s.entries.filter { $0.position > position }, truncated: s.maxDeleted > position)
        }
    }

    public func claim(_ eventID: String) async throws -> Bool {
        let now = RedisHistory.nowMilliseconds()
        return state.withLockedValue { state in
            guard let at = state.completed[eventID] else { return true }
            return now &- at >= retention.maxAgeMilliseconds
        }
    }

    public func complete(_ eventID: String) async throws {
        let now = RedisHistory.nowMilliseconds()
        state.withLockedValue { $0.completed[eventID] = now }
    }

    public func release(_ eventID: String) async {
        _ = state.withLockedValue { $0.completed.removeValue(forKey: eventID) }
    }
}
