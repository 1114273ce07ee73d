/// Recent events per stream (user, channel, broadcast), kept for resume and for offline users,
/// and the idempotency keys of recent publications.
/// `RedisHistory` is the real one (Redis Streams); `InProcessHistory` serves the standalone mode.
public protocol History: Sendable {
    /// Keeps a publish body at the end of `stream`; returns its position.
    func append(_ body: [UInt8], to stream: HistoryStream) async throws -> StreamPosition
    /// What `stream` holds after `position`, oldest first.
    func read(_ stream: HistoryStream, after position: StreamPosition) async throws -> HistoryRead
    /// Starts publishing an id; false if a publication with this id already completed within the
    /// retention (a retry of a success). An attempt that failed half-way never completed, so its
    /// retry goes through (and whatever reached clients twice is de-duplicated by id).
    func claim(_ eventID: String) async throws -> Bool
    /// Marks the id published.
    func complete(_ eventID: String) async throws
    /// Forgets a claimed id whose publication failed, so a retry goes through.
    func release(_ eventID: String) async
}

/// How much history is kept: by count per stream and by age.
public struct HistoryRetention: Sendable {
    public var maxLength: Int
    public var maxAge: Duration

    public init(maxLength: Int = 1000, maxAge: Duration = .seconds(3600)) {
        self.maxLength = maxLength
        self.maxAge = maxAge
    }

    var maxAgeMilliseconds: UInt64 {
        let (seconds, attoseconds) = maxAge.components
        return UInt64(seconds) * 1000 + UInt64(attoseconds / 1_000_000_000_000_000)
    }
}

public struct HistoryEntry: Sendable, Equatable {
    public var position: StreamPosition
    /// The publish JSON, with its id.
    public var body: [UInt8]

    public init(position: StreamPosition, body: [UInt8]) {
        self.position = position
        self.body = body
    }
}

public struct HistoryRead: Sendable, Equatable {
    public var entries: [HistoryEntry]
    /// Some events after the requested position are no longer kept: the client must reset.
    public var truncated: Bool

    public init(entries: [HistoryEntry], truncated: Bool) {
        self.entries = entries
        self.truncated = truncated
    }
}
