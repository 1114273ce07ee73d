/// Once-only sends: a send's `Idempotency-Key` is claimed, per tenant and user, before the send is
/// forwarded or published, so a browser retrying it (its answer was lost, the node restarted) reaches
/// the backend once. `RedisSendClaims` is the cluster's (`sse:send:<tenant>:<user>:<key>`);
/// `InProcessSendClaims` serves the standalone mode.
///
/// The pattern is the publish path's (`History.admit`): a claim is `pending` while its attempt runs
/// and lapses by itself if that attempt never settles (its node died); `complete` marks it done for
/// `doneLifetime`; `release` forgets it after a failure, so the retry goes through.
public protocol SendClaims: Sendable {
    /// Claims `key` for the send `id`, pending for at most `lapse`.
    func claim(_ key: SendClaimKey, id: String, lapse: Duration) async throws -> SendClaim
    /// Marks the send done: retries within `doneLifetime` are answered as duplicates of `id`.
    func complete(_ key: SendClaimKey, id: String) async throws
    /// Forgets a pending claim of `id` (not one another attempt holds).
    func release(_ key: SendClaimKey, id: String) async
}

/// How long a done send's key answers retries.
public let sendClaimDoneLifetime: Duration = .seconds(3600)

/// The outcome of `SendClaims.claim`.
public enum SendClaim: Sendable, Equatable {
    /// Go ahead.
    case claimed
    /// Sent already, as `id`: send nothing.
    case done(id: String)
    /// Another attempt with this key is under way: send nothing; the caller retries later.
    case inFlight
}

/// An idempotency key, scoped to who sent it: two users' keys never collide.
public struct SendClaimKey: Sendable, Hashable {
    public var tenant: String
    /// nil for an anonymous sender (authentication off, no `user`).
    public var user: String?
    public var key: String

    public init(tenant: String, user: String?, key: String) {
        self.tenant = tenant
        self.user = user
        self.key = key
    }
}
