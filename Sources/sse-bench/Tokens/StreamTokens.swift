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
    /// This tool's own time to verify one of them with the same `Authenticator` code the node runs, on
    /// one thread (an average over a sample, checked before the run): the signature and claim checks alone,
    /// without the HTTP path around them.
    var verifyMicroseconds: Double

    var text: String {
        String(
            format: "%@, %d distinct (%d bytes each), in the %@; minted in %.1f s before the run; verifying one here: %.1f µs",
            algorithm, tokens, tokenBytes, placement == .header ? "Authorization header" : "token query parameter", mintSeconds,
            verifyMicroseconds)
    }
}
