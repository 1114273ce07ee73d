import NIOConcurrencyHelpers

/// The keys tokens are verified with right now: the configured ones (`auth.jwtSecret`,
/// `auth.jwtKeyFile`), which never change, together with the latest ones fetched from `auth.jwksUrl`,
/// which `JWKSSource` replaces at each refresh.
///
/// Each verification takes the current `KeySet` with one short lock (a reference copy); a refresh builds
/// the new set outside the lock and swaps it in, so verifying never waits on the network.
final class KeyRing: Sendable {
    private let configured: [VerificationKey]
    private let current: NIOLockedValueBox<KeySet>

    init(configured: [VerificationKey]) {
        self.configured = configured
        self.current = NIOLockedValueBox(KeySet(configured))
    }

    /// The set to check one token against.
    var keys: KeySet { current.withLockedValue { $0 } }

    /// Replaces the fetched keys with `fetched`: keys gone from the JWKS stop verifying, new ones start.
    func replaceFetched(_ fetched: [VerificationKey]) {
        let set = KeySet(configured + fetched)
        current.withLockedValue { $0 = set }
    }
}
