/// Tokens minted before a run, one per connection: connection `i` sends `tokens[i mod count]`. Minting
/// happens before the measured window, so signing never competes with connecting for this tool's CPU.
struct StreamTokens: Sendable {
    let tokens: [String]
    let placement: TokenPlacement
    /// What the result records about them.
    let summary: TokenSummary

    func token(connection: Int) -> String {
        tokens[connection % tokens.count]
    }
}

/// The tokens of a run, as its result records them.
struct TokenSummary: Codable, Sendable {
    /// The signature algorithm, e.g. `HS256` or `ES256`.
    var algorithm: String
    /// Where each request carried its token.
    var placement: TokenPlacement
    /// Distinct tokens minted (connections beyond that reuse them in turn).
    var tokens: Int
    /// Bytes of one token.
    var tokenBytes: Int
    /// Seconds spent minting them all, before the run.
    var mintSeconds: Double
    /// This tool's own CPU time to verify one of them (`Authenticator.verify`: signature, then claims), on
    /// one thread, averaged over a sample before the run.
    var verifyMicroseconds: Double
    /// The same for the whole check the node runs on a stream request (`Authenticator.subscriber`: finding
    /// the token in the headers or the query, then `verify`); the rest of the HTTP path is not in it.
    var checkMicroseconds: Double

    var text: String {
        String(
            format: "%@, %d distinct (%d bytes each), in the %@; minted in %.1f s before the run; here one takes %.1f µs to verify, %.1f µs to check in its request",
            algorithm, tokens, tokenBytes, placement == .header ? "Authorization header" : "token query parameter", mintSeconds,
            verifyMicroseconds, checkMicroseconds)
    }
}
