import Configuration
import Foundation
import Testing

@testable import SSEFanout

/// Credentials too weak to trust are refused at startup.
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
}
