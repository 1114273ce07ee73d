import Crypto
import CryptoExtras
import Foundation

@testable import SSEFanout

/// Keys and hand-built tokens for the authentication tests. Tokens are signed here with swift-crypto
/// directly, not with the code under test, so that a verifier and a signer that agree on a mistake
/// cannot pass together.
enum TestTokens {
    static let secret = "test-secret-0123456789abcdef-0123456789"
    static let now: Double = 1_800_000_000

    static let ecKey = P256.Signing.PrivateKey()
    /// Generated once: a 2048-bit key takes a while in a debug build.
    static let rsaKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    /// `header.payload.signature` with `sign` over `header.payload`.
    static func token(
        header: [String: Any] = ["alg": "HS256", "typ": "JWT"], claims: [String: Any],
        sign: ([UInt8]) -> [UInt8] = hs256(secret)
    ) -> String {
        let signingInput = part(header) + "." + part(claims)
        return signingInput + "." + Base64URL.encode(sign(Array(signingInput.utf8)))
    }

    static func part(_ object: [String: Any]) -> String {
        Base64URL.encode(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// A token's decoded JOSE header.
    static func header(of token: String) -> [String: Any]? {
        guard let part = token.split(separator: ".").first, let json = Base64URL.decode(part.utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any]
    }

    /// Claims for alice valid from `now` for an hour, plus `extra` (an `NSNull` value removes a claim).
    static func claims(_ extra: [String: Any] = [:]) -> [String: Any] {
        var claims: [String: Any] = ["sub": "alice", "iat": now, "exp": now + 3600]
        for (key, value) in extra {
            if value is NSNull { claims[key] = nil } else { claims[key] = value }
        }
        return claims
    }

    static func hs256(_ secret: String) -> ([UInt8]) -> [UInt8] {
        hs256(bytes: Array(secret.utf8))
    }

    static func hs256(bytes key: [UInt8]) -> ([UInt8]) -> [UInt8] {
        { input in Array(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key))) }
    }

    static func es256(_ key: P256.Signing.PrivateKey = ecKey) -> ([UInt8]) -> [UInt8] {
        { input in Array(try! key.signature(for: input).rawRepresentation) }
    }

    static func rs256(_ key: _RSA.Signing.PrivateKey = rsaKey) -> ([UInt8]) -> [UInt8] {
        { input in Array(try! key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation) }
    }

    /// A temporary file holding `text`, in the directory `scripts/test.sh` empties (`testFiles`).
    static func file(_ text: String, suffix: String = ".pem") throws -> String {
        let path = try testFiles().appendingPathComponent("auth-\(UUID().uuidString)\(suffix)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Where unit tests write their files: one directory, removed by `scripts/test.sh` after a run.
    static func testFiles() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sse-fanout-test-files")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func authenticator(_ configure: (inout AuthConfiguration) -> Void = { _ in }) async throws -> Authenticator {
        var configuration = AuthConfiguration()
        configuration.jwtSecret = secret
        configure(&configuration)
        return try await Authenticator.load(configuration)
    }

    /// The refusal `body` throws, or nil when it does not.
    static func refusal(_ body: () throws(AuthError) -> Void) -> AuthError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }
}
