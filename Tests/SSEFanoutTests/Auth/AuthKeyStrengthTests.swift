import Configuration
import Crypto
import Foundation
import Logging
import Testing

@testable import SSEFanout

/// Credentials too weak to trust are refused at startup, and keys of an identity provider without an
/// audience to check are warned about.
@Suite struct AuthKeyStrengthTests {
    typealias T = TestTokens

    private func loadError(_ configure: (inout AuthConfiguration) -> Void) async -> String? {
        var configuration = AuthConfiguration()
        configure(&configuration)
        do {
            _ = try await Authenticator.load(configuration)
            return nil
        } catch {
            return error.description
        }
    }

    private func readError(_ values: [AbsoluteConfigKey: ConfigValue]) -> String? {
        do {
            _ = try AuthConfiguration.read(ConfigReader(provider: InMemoryProvider(values: values)))
            return nil
        } catch {
            return error.description
        }
    }

    @Test func apiKeysShorterThanSixteenBytesAreRefused() async throws {
        let short = "fifteen-bytes-k"
        #expect(short.utf8.count == 15)
        let error = try #require(await loadError { $0.apiKeys = ["a-long-enough-api-key", short] })
        #expect(error.contains("auth.apiKeys") && error.contains("key #2") && error.contains("at least 16"))
        #expect(!error.contains(short))
        let read = readError([["auth", "apiKeys"]: ConfigValue(.stringArray([short]), isSecret: true)])
        #expect(read?.contains("at least 16") == true)
        #expect(await loadError { $0.apiKeys = [short + "y"] } == nil)
    }

    @Test func secretsWithFewerThanEightDistinctBytesAreRefused() async throws {
        let weak = [
            String(repeating: "a", count: 32), String(repeating: "ab", count: 20), String(repeating: "abcdefg", count: 5),
            String(repeating: "0", count: 64),
        ]
        for secret in weak {
            let error = await loadError { $0.jwtSecret = secret }
            #expect(error?.contains("auth.jwtSecret") == true && error?.contains("distinct bytes") == true, "\(secret)")
            #expect(error?.contains(secret) == false)
            #expect(readError([["auth", "jwtSecret"]: ConfigValue(.string(secret), isSecret: true)]) != nil)
        }
        #expect(await loadError { $0.jwtSecret = String(repeating: "abcdefgh", count: 4) } == nil)
        // Still refused for its length first.
        #expect(await loadError { $0.jwtSecret = "abcdefgh" }?.contains("at least 32 bytes") == true)
    }

    @Test func keysOfAnIdentityProviderWithoutAnAudienceAreWarnedAbout() async throws {
        let rsa = try T.rsaKey.publicKey.getKeyPrimitives()
        let jwks = #"{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","n":"\#(Base64URL.encode(rsa.modulus))","e":"\#(Base64URL.encode(rsa.publicExponent))"}]}"#
        let jwksFile = try T.file(jwks, suffix: ".json")
        let publicKey = try T.file(T.ecKey.publicKey.pemRepresentation)
        let privateKey = try T.file(T.ecKey.pemRepresentation)
        func warnings(_ configure: (inout AuthConfiguration) -> Void) async throws -> [String] {
            let lines = LoggedLines()
            var configuration = AuthConfiguration()
            configure(&configuration)
            _ = try await Authenticator.load(configuration, logger: Logger(label: "test") { _ in lines })
            return lines.all.filter { $0.contains("'aud' is not checked") }
        }
        let warned = try await warnings { $0.jwtKeyFile = jwksFile }
        #expect(warned.count == 1)
        #expect(warned.first?.contains("minted for another service") == true)
        #expect(try await warnings { $0.jwtKeyFile = publicKey }.count == 1)
        #expect(try await warnings { $0.jwksURL = "https://id.example/jwks" }.count == 1)
        // With an audience, or keys only this node's operators hold: nothing to warn about.
        #expect(try await warnings { $0.jwtKeyFile = jwksFile; $0.audience = "sse" }.isEmpty)
        #expect(try await warnings { $0.jwksURL = "https://id.example/jwks"; $0.audience = "sse" }.isEmpty)
        #expect(try await warnings { $0.jwtSecret = T.secret }.isEmpty)
        #expect(try await warnings { $0.jwtKeyFile = privateKey }.isEmpty)
    }
}
