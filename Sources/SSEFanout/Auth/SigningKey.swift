import JWTKit

/// The key `Authenticator.mint` signs with: the HS256 secret or a private key, alone in its own
/// jwt-kit collection so that it is the one jwt-kit signs with.
struct SigningKey: Sendable {
    var keys: JWTKeyCollection
    var kid: String?
    var algorithmName: String
}
