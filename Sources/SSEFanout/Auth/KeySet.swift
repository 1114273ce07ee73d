/// The token keys a node verifies with at one moment. Immutable: a verification reads one reference
/// and checks the whole token against it, and `KeyRing` swaps in a new set whole, so a token is never
/// checked against half of an old set and half of a new one.
final class KeySet: Sendable {
    /// Every key, by the algorithm it verifies.
    let keysByAlgorithm: [String: [VerificationKey]]
    /// Keys without a `kid` (the secret, a PEM key), by algorithm: those a token whose `kid` names no
    /// JWKS key may still be checked against.
    let unnamedKeysByAlgorithm: [String: [VerificationKey]]
    /// Keys with a `kid`; of two with the same one, the first (configured keys come before fetched ones).
    let keysByID: [String: VerificationKey]

    init(_ keys: [VerificationKey]) {
        keysByAlgorithm = Dictionary(grouping: keys, by: \.name)
        unnamedKeysByAlgorithm = Dictionary(grouping: keys.filter { $0.kid == nil }, by: \.name)
        keysByID = Dictionary(keys.compactMap { key in key.kid.map { ($0, key) } }, uniquingKeysWith: { first, _ in first })
    }

    var isEmpty: Bool { keysByAlgorithm.isEmpty }

    /// Algorithms of the keys, e.g. `["ES256", "HS256"]`.
    var algorithms: [String] { keysByAlgorithm.keys.sorted() }
}
