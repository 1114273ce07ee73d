/// Recent events per stream (one per kept `Address`), kept for resume and for offline users, and the
/// idempotency keys of recent publications.
/// `RedisHistory` is the real one (Redis Streams); `InProcessHistory` serves the standalone mode.
/// `HistoryContractTests` holds both to what is written here.
///
/// `admit`, on the publish path, takes a completion that must not block. It never runs inside the
/// call it was handed to, so a caller holding a lock or on an event loop cannot deadlock or re-enter;
/// beyond that, where it runs is the store's choice (`RedisHistory`: the caller's event loop, or the
/// first loop for a caller on none; `InProcessHistory`: a task). The rest (reads on resume, marking ids done, withdrawing) is async.
public protocol History: Sendable {
    /// In one step, for each publication in order: claims its publisher-given id, and keeps its body
    /// at the end of its stream, at a position after every one kept there before. A claim fails
    /// (`.duplicate`, nothing kept) when a publication with this id already completed within the
    /// retention's `maxAge` (a retry of a success), and (`.inFlight`) while another attempt holds it,
    /// in this batch or another: one id never makes two copies. An attempt that failed half-way never
    /// completed, so its retry goes through (clients drop what reached them twice); one that never
    /// settles (its node died) lets go of its claim after the retention's `claimLapse`.
    /// `completion` never runs inside this call (see the protocol).
    func admit(_ admissions: [HistoryAdmission], completion: @escaping @Sendable (Result<[HistoryAdmission.Outcome], any Error>) -> Void)
    /// What `stream` holds after `position`, oldest first: at most `limit` entries (at least one).
    ///
    /// A stream keeps at least its newest `maxLength` entries, none older than `maxAge` once it is
    /// trimmed, and nothing once it went `maxAge` without a new entry; trimming may keep more than
    /// `maxLength` (Redis trims whole blocks). `truncated` says that entries after `position` were
    /// trimmed or expired; entries withdrawn are not missed, so they never count. Where the store
    /// cannot tell (`RedisHistory`: the stream is new, or expired and kept again, and `position` is
    /// older than `maxAge`; or the entry withdrawn was the oldest kept), it answers truncated: a
    /// needless reset, never a missed one.
    func read(_ stream: Address, after position: StreamPosition, limit: Int) async throws -> HistoryRead
    /// Marks these claimed ids published: for `maxAge`, admitting one again is `.duplicate`.
    func complete(_ eventIDs: [String]) async throws
    /// Takes back admitted publications that were not sent after all: removes the entries they kept
    /// and forgets their claims (pending or completed), so nothing of them stays and a retry is kept
    /// once. An entry may be anywhere in its stream (later ones may have been kept meanwhile); readers
    /// do not take the gap for trimming.
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

/// How much history is kept: by count per stream and by age; and how long a claim whose attempt never
/// settled holds.
public struct HistoryRetention: Sendable {
    public var maxLength: Int
    public var maxAge: Duration
    /// How long a claim stays pending when its attempt never settles (its node died): longer than an
    /// attempt takes (a Redis timeout and a publisher confirm timeout), short enough that a retry is
    /// not refused for long.
    public var claimLapse: Duration

    public init(maxLength: Int = 1000, maxAge: Duration = .seconds(3600), claimLapse: Duration = .seconds(15)) {
        self.maxLength = maxLength
        self.maxAge = maxAge
        self.claimLapse = claimLapse
    }

    var maxAgeMilliseconds: UInt64 { Self.milliseconds(maxAge) }
    var claimLapseMilliseconds: UInt64 { Self.milliseconds(claimLapse) }

    private static func milliseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
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
