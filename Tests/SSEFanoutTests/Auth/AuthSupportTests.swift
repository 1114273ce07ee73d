import Configuration
import Foundation
import JWTKit
import Testing

@testable import SSEFanout

@Suite struct AuthSupportTests {
    @Test func base64URLMatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Base64URL.encode(bytes)
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(encoded == foundation)
            #expect(Base64URL.decode(encoded.utf8) == bytes)
        }
        // Padding, the standard alphabet, whitespace, impossible lengths and stray bits are refused.
        for bad in ["e30=", "ab+/", "ab c", "a", "abcde", "QR"] {
            #expect(Base64URL.decode(bad.utf8) == nil, "\(bad)")
        }
        #expect(Base64URL.decode("QQ".utf8) == [0x41])
    }

    @Test func durationText() {
        #expect(DurationText.parse("30s") == .seconds(30))
        #expect(DurationText.parse("15m") == .seconds(900))
        #expect(DurationText.parse("1h") == .seconds(3600))
        #expect(DurationText.parse("2d") == .seconds(172_800))
        #expect(DurationText.parse("90") == .seconds(90))
        for bad in ["", "0", "0s", "-5", "1.5h", "h", "1w", "1 h", "1hh", "99999999999999999999"] {
            #expect(DurationText.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func readsAuthSettings() throws {
        let values: [AbsoluteConfigKey: ConfigValue] = [
            ["auth", "jwtSecret"]: ConfigValue(.string(TestTokens.secret), isSecret: true),
            ["auth", "issuer"]: ConfigValue(.string("https://id.example"), isSecret: false),
            ["auth", "maxTokenLifetime"]: ConfigValue(.double(600), isSecret: false),
            ["auth", "apiKeys"]: ConfigValue(.stringArray(["key-one-0123456789", "key-two-0123456789"]), isSecret: true),
            ["auth", "cookieName"]: ConfigValue(.string("tk"), isSecret: false),
            ["auth", "jwksUrl"]: ConfigValue(.string("https://id.example/.well-known/jwks.json"), isSecret: false),
            ["auth", "jwksRefresh"]: ConfigValue(.double(60), isSecret: false),
        ]
        let c = try AuthConfiguration.read(ConfigReader(provider: InMemoryProvider(values: values)))
        #expect(c.jwtSecret == TestTokens.secret && c.isConfigured)
        #expect(c.issuer == "https://id.example" && c.audience == nil)
        #expect(c.jwksURL == "https://id.example/.well-known/jwks.json" && c.jwksRefresh == .seconds(60))
        #expect(c.maxTokenLifetime == .seconds(600))
        #expect(c.apiKeys == ["key-one-0123456789", "key-two-0123456789"] && c.cookieName == "tk" && !c.disabled)

        let defaults = try AuthConfiguration.read(ConfigReader(provider: InMemoryProvider(values: [:])))
        #expect(defaults == AuthConfiguration())
        #expect(!defaults.isConfigured && defaults.maxTokenLifetime == .seconds(86_400) && defaults.cookieName == "sse_token")
        #expect(defaults.jwksURL == nil && defaults.jwksRefresh == .seconds(300))

        let environment = EnvironmentVariablesProvider(environmentVariables: [
            "SSE_FANOUT_AUTH_JWT_KEY_FILE": "/etc/key.pem", "SSE_FANOUT_AUTH_API_KEYS": "key-a-0123456789ab,key-b-0123456789ab", "SSE_FANOUT_AUTH_DISABLED": "true",
            "SSE_FANOUT_AUTH_JWKS_URL": "http://keycloak:8080/realms/app/protocol/openid-connect/certs", "SSE_FANOUT_AUTH_JWKS_REFRESH": "30",
        ])
        let fromEnvironment = try AuthConfiguration.read(ConfigReader(provider: environment.prefixKeys(with: ConfigKey("sseFanout"))))
        #expect(fromEnvironment.jwtKeyFile == "/etc/key.pem" && fromEnvironment.apiKeys == ["key-a-0123456789ab", "key-b-0123456789ab"] && fromEnvironment.disabled)
        #expect(fromEnvironment.jwksURL == "http://keycloak:8080/realms/app/protocol/openid-connect/certs")
        #expect(fromEnvironment.jwksRefresh == .seconds(30) && fromEnvironment.isConfigured)
        #expect(ConfigurationLoader.environmentName(for: "auth.jwtSecret") == "SSE_FANOUT_AUTH_JWT_SECRET")
        #expect(ConfigurationLoader.environmentName(for: "auth.jwksUrl") == "SSE_FANOUT_AUTH_JWKS_URL")
    }

    @Test func printingTheSettingsHidesCredentials() {
        struct Embedding { var auth: AuthConfiguration }
        var c = AuthConfiguration()
        c.jwtSecret = TestTokens.secret
        c.apiKeys = ["pk_live_secret_key"]
        c.jwtKeyFile = "/etc/sse/key.pem"
        c.jwksURL = "https://jwks-user:jwks-password@id.example/jwks"
        for text in [String(describing: c), String(reflecting: c), "\(c)", String(describing: Embedding(auth: c))] {
            #expect(!text.contains(TestTokens.secret) && !text.contains("pk_live_secret_key"), "\(text)")
            #expect(text.contains("/etc/sse/key.pem"))
            #expect(text.contains("https://id.example/jwks") && !text.contains("jwks-password"))
        }
    }

    @Test func refusesUnusableSettings() {
        let unusable: [(String, ConfigContent)] = [
            ("jwtSecret", .string("short")), ("maxTokenLifetime", .double(0)), ("cookieName", .string("a b")),
            ("jwksUrl", .string("ftp://id.example/jwks")), ("jwksUrl", .string("https://")), ("jwksUrl", .string("id.example/jwks")),
            ("jwksRefresh", .double(0.5)),
        ]
        for (key, value) in unusable {
            let values: [AbsoluteConfigKey: ConfigValue] = [["auth", key]: ConfigValue(value, isSecret: false)]
            #expect(throws: ConfigurationError.self) { try AuthConfiguration.read(ConfigReader(provider: InMemoryProvider(values: values))) }
        }
    }

    /// What `mint` signs, jwt-kit's own verification accepts: the two agree on the format.
    @Test func mintedTokensVerifyWithJWTKit() async throws {
        struct Payload: JWTPayload {
            var sub: SubjectClaim
            var exp: ExpirationClaim
            var channels: [String]
            func verify(using algorithm: some JWTAlgorithm) throws { try exp.verifyNotExpired() }
        }
        let path = try TestTokens.file(TestTokens.ecKey.pemRepresentation)
        var configuration = AuthConfiguration()
        configuration.jwtKeyFile = path
        let auth = try await Authenticator.load(configuration)
        let token = try await auth.mint(user: "alice", channels: ["news"], ttl: .seconds(60))
        let keys = await JWTKeyCollection().add(ecdsa: try ES256PublicKey(pem: TestTokens.ecKey.publicKey.pemRepresentation))
        let payload = try await keys.verify(token, as: Payload.self)
        #expect(payload.sub.value == "alice" && payload.channels == ["news"])

        // And what jwt-kit signs, `verify` accepts.
        let signer = await JWTKeyCollection().add(ecdsa: try ES256PrivateKey(pem: TestTokens.ecKey.pemRepresentation))
        let theirs = try await signer.sign(Payload(sub: "bob", exp: .init(value: Date().addingTimeInterval(60)), channels: ["*"]))
        let claims = try auth.verify(theirs)
        #expect(claims.user == "bob" && claims.allowsChannel("x"))
    }
}
