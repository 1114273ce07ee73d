/// The node's rate-limited warnings, one per kind of limit or refusal, so that a flood of one (every
/// new client refused by a full node) never hides another.
struct LimitLogs: Sendable {
    /// `limits.maxConnections`: the node holds its most streams.
    let nodeFull = RateLimitedLog()
    /// `limits.maxConnectionsPerUser`: a user's stream refused or their oldest closed.
    let userLimit = RateLimitedLog()
    /// `limits.maxConnectionsPerAddress`: one client address holds its most streams.
    let addressLimit = RateLimitedLog()
    /// A request's head or body did not arrive in time.
    let requestTimeout = RateLimitedLog()
    /// A request head that could not be parsed, or was too large.
    let malformedRequest = RateLimitedLog()
    /// The listening socket could not accept (out of file descriptors, or memory).
    let acceptFailure = RateLimitedLog()
}
