import Foundation
import Redis

/// History in Redis Streams: `sse:history:<address key>` (`user:alice`, `channel@acme:news`, `broadcast`), trimmed by count
/// (`MAXLEN ~`) and age (`MINID ~`), and expiring when idle for the retention age.
/// Each entry holds the publish JSON (`b`) and the id of the entry before it (`p`): Redis does not
/// record what trimming removed, so a reader sees a gap when the first entry it gets does not follow
/// the position it asked from. A gap is also left by a withdrawn entry (a publish that failed after it
/// was kept), which may be anywhere in the stream, while trimming and expiry only ever remove the
/// oldest entries: so a gap counts as truncation only when the oldest entry kept is past the position.
/// Idempotency keys are `sse:idem:<tenant>|<publisher's event id>` (see `Router.claim`), kept for the same age.
public final class RedisHistory: History {
    private let client: RedisClient
    private let prefix: String
    private let retention: HistoryRetention

    /// For each publication: claims its id (`c`), keeps its body (`s`), or both (`cs`), in one
    /// atomic step for the whole batch. Keeping appends, trims, renews the stream's expiry and records
    /// the previous entry's id. Answers, per publication: `dup`, the new entry's id, or `ok`.
    /// KEYS: the idempotency key and/or stream key of each publication, in order.
    /// ARGV: max length, oldest id kept, retention ms, claim ms, then per publication its kind and body.
    private static let admitScript = """
        local out = {}
        local key = 1
        local previous = {}
        for i = 5, #ARGV, 2 do
            local kind = ARGV[i]
            local result = 'ok'
            if string.find(kind, 'c', 1, true) then
                local idem = KEYS[key]
                key = key + 1
                local claim = redis.call('GET', idem)
                if claim == 'done' then
                    result = 'dup'
                elseif claim then
                    result = 'busy'
                else
                    redis.call('SET', idem, 'pending', 'PX', ARGV[4])
                end
            end
            if string.find(kind, 's', 1, true) then
                local stream = KEYS[key]
                key = key + 1
                if result == 'ok' then
                    local last = previous[stream]
                    if not last then
                        local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
                        last = '0-0'
                        if #newest > 0 then last = newest[1][1] end
                    end
                    result = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[1], '*', 'p', last, 'b', ARGV[i + 1])
                    previous[stream] = result
                    redis.call('XTRIM', stream, 'MINID', '~', ARGV[2])
                    redis.call('PEXPIRE', stream, ARGV[3])
                end
            end
            out[#out + 1] = result
        end
        return out
        """

    public init(client: RedisClient, keyPrefix: String = "sse:", retention: HistoryRetention) {
        self.client = client
        self.prefix = keyPrefix
        self.retention = retention
    }

    func key(_ stream: Address) -> String { "\(prefix)history:\(stream.key)" }

    /// One script for the whole batch, answered on the caller's event loop (in a task when answered at
    /// once: nothing to claim or keep, or the client shut down).
    public func admit(
        _ admissions: [HistoryAdmission], completion: @escaping @Sendable (Result<[HistoryAdmission.Outcome], any Error>) -> Void
    ) {
        let completion = DeferredCompletion(completion)
        defer { completion.callReturned() }
        if admissions.isEmpty { return completion(.success([])) }
        let age = retention.maxAgeMilliseconds
        let oldest = Self.nowMilliseconds() &- age
        var keys: [[UInt8]] = []
        var arguments: [[UInt8]] = [String(retention.maxLength), "\(oldest)-0", String(age), String(retention.claimLapseMilliseconds)].map { Array($0.utf8) }
        keys.reserveCapacity(admissions.count * 2)
        arguments.reserveCapacity(4 + admissions.count * 2)
        for admission in admissions {
            var kind = ""
            if let claim = admission.claim {
                kind += "c"
                keys.append(Array(idempotencyKey(claim).utf8))
            }
            if let stream = admission.stream {
                kind += "s"
                keys.append(Array(key(stream).utf8))
            }
            arguments.append(Array((kind.isEmpty ? "-" : kind).utf8))
            arguments.append(admission.stream == nil ? [] : admission.body)
        }
        guard !keys.isEmpty else { return completion(.success(admissions.map { _ in .accepted(position: nil) })) }
        let command = [Array("EVAL".utf8), Array(Self.admitScript.utf8), Array(String(keys.count).utf8)] + keys + arguments
        let count = admissions.count
        client.pipeline(bytes: [command]) { result in
            completion(Result { () throws(RedisError) in
                let replies = try result.get()
                try replies.throwingFirstError()
                return try Self.outcomes(of: replies[0], count: count)
            }.mapError { $0 })
        }
    }

    private static func outcomes(of reply: RedisValue, count: Int) throws(RedisError) -> [HistoryAdmission.Outcome] {
        guard let results = reply.array, results.count == count else {
            throw RedisError.protocolError("admitting publications answered \(reply)")
        }
        return try results.map { result throws(RedisError) in
            switch result.string {
            case "dup": return .duplicate
            case "busy": return .inFlight
            case "ok": return .accepted(position: nil)
            case let text?:
                if let position = StreamPosition(text) { return .accepted(position: position) }
                throw RedisError.protocolError("admitting a publication answered \(text)")
            case nil: throw RedisError.protocolError("admitting a publication answered \(result)")
            }
        }
    }

    func idempotencyKey(_ eventID: String) -> String { "\(prefix)idem:\(eventID)" }

    public func read(_ stream: Address, after position: StreamPosition, limit: Int) async throws -> HistoryRead {
        let replies = try await client.pipeline([
            ["XRANGE", key(stream), "(\(position)", "+", "COUNT", String(max(1, limit))],
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
            // The entry before the first one we got is past our position: what lay between was trimmed,
            // or withdrawn. Trimming starts at the oldest entry, so it reached past our position only
            // if the oldest one kept is newer than it.
            if firstPrevious > position {
                truncated = try await oldest(in: stream).map { $0 > position } ?? true
            } else {
                truncated = false
            }
        } else if entries.isEmpty, replies[1].int == 1 {
            // The stream is there and holds nothing newer: nothing was missed.
            truncated = false
        } else {
            // A new (or expired and recreated) stream: only an old position can have missed something.
            truncated = olderThanRetention
        }
        return HistoryRead(entries: entries, truncated: truncated)
    }

    /// The position of the oldest entry `stream` keeps; nil when it keeps none.
    private func oldest(in stream: Address) async throws -> StreamPosition? {
        let reply = try await client.command(["XRANGE", key(stream), "-", "+", "COUNT", "1"])
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply.array?.first?.array?.first?.string.flatMap(StreamPosition.init)
    }

    public func complete(_ eventIDs: [String]) async throws {
        if eventIDs.isEmpty { return }
        let expiry = String(retention.maxAgeMilliseconds)
        try await client.pipeline(eventIDs.map { ["SET", idempotencyKey($0), "done", "PX", expiry] }).throwingFirstError()
    }

    /// One round trip: the entries go first, then the claims, so a retry that finds its claim gone
    /// never finds the entry still there.
    public func withdraw(_ entries: [HistoryPosition], claims: [String]) async throws {
        var commands = Dictionary(grouping: entries, by: \.stream).map { stream, kept in
            ["XDEL", key(stream)] + kept.map(\.position.description)
        }
        if !claims.isEmpty { commands.append(["DEL"] + claims.map(idempotencyKey)) }
        if commands.isEmpty { return }
        try await client.pipeline(commands).throwingFirstError()
    }

    static func nowMilliseconds() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}
