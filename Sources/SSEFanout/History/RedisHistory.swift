import Foundation
import Redis

/// History in Redis Streams: `sse:history:<user:id|channel:name|broadcast>`, trimmed by count
/// (`MAXLEN ~`) and age (`MINID ~`), and expiring when idle for the retention age.
/// Each entry holds the publish JSON (`b`) and the id of the entry before it (`p`): Redis does not
/// record what trimming removed, so a reader sees a gap when the first entry it gets does not follow
/// the position it asked from. Idempotency keys are `sse:idem:<event id>`, kept for the same age.
public final class RedisHistory: History {
    private let client: RedisClient
    private let prefix: String
    private let retention: HistoryRetention

    /// Appends, trims and renews the expiry in one atomic step, recording the previous entry's id.
    private static let appendScript = """
        local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
        local previous = '0-0'
        if #last > 0 then previous = last[1][1] end
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'p', previous, 'b', ARGV[2])
        redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return id
        """

    public init(client: RedisClient, keyPrefix: String = "sse:", retention: HistoryRetention) {
        self.client = client
        self.prefix = keyPrefix
        self.retention = retention
    }

    func key(_ stream: HistoryStream) -> String { "\(prefix)history:\(stream.keySuffix)" }

    public func append(_ body: [UInt8], to stream: HistoryStream) async throws -> StreamPosition {
        let age = retention.maxAgeMilliseconds
        let oldest = Self.nowMilliseconds() &- age
        let arguments = ["EVAL", Self.appendScript, "1", key(stream), String(retention.maxLength)].map { Array($0.utf8) }
            + [body] + ["\(oldest)-0", String(age)].map { Array($0.utf8) }
        let reply = try await client.command(bytes: arguments)
        guard let id = reply.string, let position = StreamPosition(id) else {
            throw RedisError.protocolError("appending to history answered \(reply)")
        }
        return position
    }

    public func read(_ stream: HistoryStream, after position: StreamPosition) async throws -> HistoryRead {
        let replies = try await client.pipeline([
            ["XRANGE", key(stream), "(\(position)", "+", "COUNT", String(retention.maxLength)],
            ["EXISTS", key(stream)],
        ])
        if case .error(let message) = replies[0] { throw RedisError.server(message) }
        let reply = replies[0]
        var entries: [HistoryEntry] = []
        var firstPrevious: StreamPosition?
        for entry in reply.array ?? [] {
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string, let entryPosition = StreamPosition(id),
                  let fields = pair[1].array
            else { continue }
            var body: [UInt8]?
            for index in stride(from: 0, to: fields.count - 1, by: 2) {
                switch fields[index].string {
                case "b": body = fields[index + 1].bytes
                case "p" where entries.isEmpty && firstPrevious == nil: firstPrevious = fields[index + 1].string.flatMap(StreamPosition.init)
                default: break
                }
            }
            if let body { entries.append(HistoryEntry(position: entryPosition, body: body)) }
        }
        let zero = StreamPosition(milliseconds: 0)
        let olderThanRetention = position > zero && position.milliseconds < Self.nowMilliseconds() &- retention.maxAgeMilliseconds
        let truncated: Bool
        if let firstPrevious, firstPrevious != zero {
            // The entry before the first one we got is past our position: what lay between was trimmed.
            truncated = firstPrevious > position
        } else if entries.isEmpty, replies[1].int == 1 {
            // The stream is there and holds nothing newer: nothing was missed.
            truncated = false
        } else {
            // A new (or expired and recreated) stream: only an old position can have missed something.
            truncated = olderThanRetention
        }
        return HistoryRead(entries: entries, truncated: truncated)
    }

    /// `pending` while an attempt is under way (for at most a minute), `done` once it succeeded.
    private static let claimScript = """
        if redis.call('GET', KEYS[1]) == 'done' then return 0 end
        redis.call('SET', KEYS[1], 'pending', 'PX', ARGV[1])
        return 1
        """

    public func claim(_ eventID: String) async throws -> Bool {
        let reply = try await client.command(["EVAL", Self.claimScript, "1", "\(prefix)idem:\(eventID)", "60000"])
        return reply.int == 1
    }

    public func complete(_ eventID: String) async throws {
        _ = try await client.command(["SET", "\(prefix)idem:\(eventID)", "done", "PX", String(retention.maxAgeMilliseconds)])
    }

    public func release(_ eventID: String) async {
        _ = try? await client.command(["DEL", "\(prefix)idem:\(eventID)"])
    }

    static func nowMilliseconds() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}
