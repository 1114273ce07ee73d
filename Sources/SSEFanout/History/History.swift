/// Recent events per stream (one per kept `Address`), kept for resume and for offline users, and the
/// idempotency keys of recent publications.
/// `RedisHistory` is the real one (Redis Streams); `InProcessHistory` serves the standalone mode.
///
/// `admit`, on the publish path, takes a completion that runs on the store's thread (for Redis, the
/// client's thread) and must not block; the rest (reads on resume, marking ids done, withdrawing) is async.
public protocol History: Sendable {
    /// In one step, for each publication in order: claims its publisher-given id, and keeps its body
    /// at the end of its stream. A claim fails (`.duplicate`, nothing kept) when a publication with
    /// this id already completed within the retention (a retry of a success), and (`.inFlight`) while
    /// another attempt holds it, in this batch or another: one id never makes two copies. An attempt
    /// that failed half-way never completed, so its retry goes through (clients drop what reached them
    /// twice).
    func admit(_ admissions: [HistoryAdmission], completion: @escaping @Sendable (Result<[HistoryAdmission.Outcome], any Error>) -> Void)
    /// What `stream` holds after `position`, oldest first: at most `limit` entries.
    func read(_ stream: Address, after position: StreamPosition, limit: Int) async throws -> HistoryRead
    /// Marks these claimed ids published.
    func complete(_ eventIDs: [String]) async throws
    /// Takes back admitted publications that were not sent after all: removes the entries they kept
    /// and forgets their claims, so nothing of them stays and a retry is kept once. An entry may be
    /// anywhere in its stream (later ones may have been kept meanwhile); readers do not take the gap
    /// for trimming.
    func withdraw(_ entries: [HistoryPosition], claims: [String]) async throws
}

extension History {
    /// Everything `stream` holds after `position`, oldest first.
    public func read(_ stream: Address, after position: StreamPosition) async throws -> HistoryRead {
        try await read(stream, after: position, limit: .max)
    }

    /// `admit`, awaited.
    public func admit(_ admissions: [HistoryAdmission]) async throws -> [HistoryAdmission.Outcome] {
        try await withCheckedThrowingContinuation { continuation in
            admit(admissions) { continuation.resume(with: $0) }
        }
    }
}

/// One publication as history sees it (see `History.admit`).
public struct HistoryAdmission: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// Go ahead; `position` is where the body was kept (nil when not kept).
        case accepted(position: StreamPosition?)
        /// The id was published before: send nothing.
        case duplicate
        /// Another attempt with this id is under way (its claim is pending): send nothing, and let
        /// the publisher retry once that attempt has settled.
        case inFlight

        public var isAccepted: Bool {
            if case .accepted = self { return true }
            return false
        }
    }

    /// An idempotency key to claim: the publisher's own id (ids a node assigns are unique already).
    public var claim: String?
    /// Where to keep `body`; nil keeps nothing (connection-addressed and ephemeral events).
    public var stream: Address?
    public var body: [UInt8]

    public init(claim: String?, stream: Address?, body: [UInt8]) {
        self.claim = claim
        self.stream = stream
        self.body = body
    }
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
