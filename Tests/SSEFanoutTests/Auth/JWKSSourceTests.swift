import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

@testable import SSEFanout

/// Keys fetched from a JWKS URL: swapped in whole, fetched again on an unknown kid at most once per
/// interval, bounded in size and time, and kept when a fetch fails. The identity provider and the clock
/// are stand-ins here; `JWKSURLTests` (integration) fetches over HTTP.
@Suite struct JWKSSourceTests {
    typealias T = TestTokens

    /// What the identity provider serves (nil: it fails), how often it was asked, and a clock that
    /// moves only when told.
    final class Provider: Sendable {
        let served = NIOLockedValueBox<[UInt8]?>(nil)
        let fetches = NIOLockedValueBox(0)
        let sizes = NIOLockedValueBox<[Int]>([])
        let clock = NIOLockedValueBox(ContinuousClock.now)

        func serve(_ keys: [(kid: String, key: P256.Signing.PrivateKey)]) {
            served.withLockedValue { $0 = JWKSSourceTests.jwks(keys) }
        }

        func advance(_ duration: Duration) {
            clock.withLockedValue { $0 += duration }
        }

        var now: ContinuousClock.Instant { clock.withLockedValue { $0 } }

        var fetch: JWKSSource.Fetch {
            { [self] _, maxSize, _ in
                fetches.withLockedValue { $0 += 1 }
                sizes.withLockedValue { $0.append(maxSize) }
                guard let body = served.withLockedValue({ $0 }) else { throw JWKSSource.FetchError("HTTP status 503") }
                return body
            }
        }
    }

    static func jwks(_ keys: [(kid: String, key: P256.Signing.PrivateKey)]) -> [UInt8] {
        let entries: [[String: Any]] = keys.map { kid, key in
            let raw = key.publicKey.rawRepresentation
            return [
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
                "x": Base64URL.encode(raw.prefix(32)), "y": Base64URL.encode(raw.suffix(32)),
            ]
        }
        return Array(try! JSONSerialization.data(withJSONObject: ["keys": entries]))
    }

    /// An authenticator whose JWKS URL is `provider`; with `secret`, an HS256 secret is configured too.
    static func authenticator(
        _ provider: Provider, secret: Bool = false, logger: Logger = Logger(label: "test"),
        _ adjust: (inout JWKSSource.Settings) -> Void = { _ in }
    ) async throws -> Authenticator {
        var configured: [VerificationKey] = []
        if secret { configured = try await T.authenticator().keyRing.keys.keysByAlgorithm["HS256"] ?? [] }
        var settings = JWKSSource.Settings(url: "https://id.example/.well-known/jwks.json")
        adjust(&settings)
        let ring = KeyRing(configured: configured)
        let source = JWKSSource(settings: settings, ring: ring, logger: logger, fetch: provider.fetch, now: { provider.now })
        var configuration = AuthConfiguration()
        configuration.jwksURL = settings.url
        return Authenticator(configuration: configuration, keyRing: ring, jwks: source, signingKey: nil)
    }

    static func token(_ kid: String, _ key: P256.Signing.PrivateKey) -> String {
        T.token(header: ["alg": "ES256", "kid": kid], claims: T.claims(), sign: T.es256(key))
    }

    static func refusal(_ auth: Authenticator, _ token: String) -> String? {
        T.refusal { () throws(AuthError) in _ = try auth.verify(token, at: T.now) }?.code
    }

    /// What `run` does each tick.
    static func tick(_ auth: Authenticator, _ provider: Provider) async {
        guard let source = auth.jwks else {
            Issue.record("no JWKS source")
            return
        }
        if source.isDue(at: provider.now) { await source.refresh() }
    }

    @Test func fetchedKeysReplaceTheLastOnesWholeAndTheConfiguredOnesStay() async throws {
        let provider = Provider()
        let (a, b) = (P256.Signing.PrivateKey(), P256.Signing.PrivateKey())
        provider.serve([("a", a)])
        let auth = try await Self.authenticator(provider, secret: true)
        #expect(await auth.jwks?.refresh() == true)
        #expect(try auth.verify(Self.token("a", a), at: T.now).user == "alice")
        #expect(try auth.verify(T.token(claims: T.claims()), at: T.now).user == "alice")
        #expect(auth.algorithms == ["ES256", "HS256"])

        provider.serve([("b", b)])
        #expect(await auth.jwks?.refresh() == true)
        #expect(Self.refusal(auth, Self.token("a", a)) == "unknown_key")
        #expect(try auth.verify(Self.token("b", b), at: T.now).user == "alice")
        #expect(try auth.verify(T.token(claims: T.claims()), at: T.now).user == "alice")
        // A token signed with another key under a known kid is still refused.
        #expect(Self.refusal(auth, Self.token("b", a)) == "invalid_signature")
    }

    @Test func aRemovedKeyIsAnUnknownKeyWhenNoOtherKeyIsConfigured() async throws {
        let provider = Provider()
        let (a, b) = (P256.Signing.PrivateKey(), P256.Signing.PrivateKey())
        provider.serve([("a", a), ("b", b)])
        let auth = try await Self.authenticator(provider)
        #expect(await auth.jwks?.refresh() == true)
        #expect(try auth.verify(Self.token("a", a), at: T.now).user == "alice")
        provider.serve([("b", b)])
        #expect(await auth.jwks?.refresh() == true)
        #expect(Self.refusal(auth, Self.token("a", a)) == "unknown_key")
        #expect(try auth.verify(Self.token("b", b), at: T.now).user == "alice")
    }

    @Test func anUnknownKidAsksForOneFetchAtMostEveryTenSeconds() async throws {
        let provider = Provider()
        let (a, b, c) = (P256.Signing.PrivateKey(), P256.Signing.PrivateKey(), P256.Signing.PrivateKey())
        provider.serve([("a", a)])
        let auth = try await Self.authenticator(provider)
        let source = try #require(auth.jwks)
        #expect(source.settings.minimumInterval == .seconds(10))
        await Self.tick(auth, provider)
        #expect(provider.fetches.withLockedValue { $0 } == 1)

        // Known kids ask for nothing.
        let tokenA = Self.token("a", a)
        for _ in 0..<100 { _ = try auth.verify(tokenA, at: T.now) }
        provider.advance(.seconds(11))
        #expect(!source.isDue(at: provider.now))

        // A key added at the provider: refused at once (nothing waits for the network), fetched once.
        provider.serve([("a", a), ("b", b)])
        let tokenB = Self.token("b", b)
        for _ in 0..<1000 { #expect(Self.refusal(auth, tokenB) == "unknown_key") }
        #expect(provider.fetches.withLockedValue { $0 } == 1)
        await Self.tick(auth, provider)
        #expect(provider.fetches.withLockedValue { $0 } == 2)
        #expect(try auth.verify(Self.token("b", b), at: T.now).user == "alice")

        // Unknown kids right after a fetch wait for the interval, however many come.
        let tokenC = Self.token("c", c)
        for _ in 0..<1000 { _ = Self.refusal(auth, tokenC) }
        for _ in 0..<9 {
            provider.advance(.seconds(1))
            await Self.tick(auth, provider)
        }
        #expect(provider.fetches.withLockedValue { $0 } == 2)
        provider.advance(.seconds(1))
        await Self.tick(auth, provider)
        #expect(provider.fetches.withLockedValue { $0 } == 3)
        // The kid is still unknown: the next fetch is ten seconds away again.
        _ = Self.refusal(auth, tokenC)
        provider.advance(.milliseconds(9_900))
        await Self.tick(auth, provider)
        #expect(provider.fetches.withLockedValue { $0 } == 3)
    }

    @Test func theKeysAreFetchedAgainEveryRefreshInterval() async throws {
        let provider = Provider()
        provider.serve([("a", P256.Signing.PrivateKey())])
        let auth = try await Self.authenticator(provider) { $0.refresh = .seconds(60) }
        await Self.tick(auth, provider)
        provider.advance(.seconds(59))
        await Self.tick(auth, provider)
        #expect(provider.fetches.withLockedValue { $0 } == 1)
        provider.advance(.seconds(1))
        await Self.tick(auth, provider)
        #expect(provider.fetches.withLockedValue { $0 } == 2)
    }

    @Test func aFailedFetchKeepsTheLastGoodKeysAndIsTriedAgainAfterTheInterval() async throws {
        let provider = Provider()
        let a = P256.Signing.PrivateKey()
        provider.serve([("a", a)])
        let lines = LoggedLines()
        let auth = try await Self.authenticator(provider, logger: Logger(label: "test") { _ in lines })
        await Self.tick(auth, provider)
        provider.served.withLockedValue { $0 = nil }
        provider.advance(.seconds(300))
        await Self.tick(auth, provider)
        #expect(provider.fetches.withLockedValue { $0 } == 2)
        #expect(try auth.verify(Self.token("a", a), at: T.now).user == "alice")
        #expect(auth.notReadyReason == nil)
        // Tried again ten seconds later, not at every tick; the warning is not repeated each time.
        for _ in 0..<3 {
            provider.advance(.seconds(9))
            await Self.tick(auth, provider)
            provider.advance(.seconds(1))
            await Self.tick(auth, provider)
        }
        #expect(provider.fetches.withLockedValue { $0 } == 5)
        let warnings = lines.all.filter { $0.contains("could not fetch the JWKS") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("the last keys fetched stay in use") == true)
        #expect(warnings.first?.contains("HTTP status 503") == true)
        // No key material in the log.
        let x = Base64URL.encode(a.publicKey.rawRepresentation.prefix(32))
        #expect(!lines.all.contains { $0.contains(x) })

        provider.serve([("a", a)])
        provider.advance(.seconds(10))
        await Self.tick(auth, provider)
        #expect(lines.all.last?.hasPrefix("token keys fetched from the JWKS URL") == true)
    }

    @Test func noKeysYetMeansNotReadyWhileTheConfiguredKeysWork() async throws {
        let provider = Provider()
        let a = P256.Signing.PrivateKey()
        let auth = try await Self.authenticator(provider, secret: true)
        #expect(await auth.jwks?.refresh() == false)
        #expect(auth.notReadyReason?.hasPrefix("no token keys yet from the JWKS URL") == true)
        #expect(auth.notReadyReason?.contains("HTTP status 503") == true)
        #expect(Self.refusal(auth, Self.token("a", a)) == "unknown_key")
        #expect(try auth.verify(T.token(claims: T.claims()), at: T.now).user == "alice")

        let keyless = try await Self.authenticator(provider)
        #expect(await keyless.jwks?.refresh() == false)
        #expect(Self.refusal(keyless, Self.token("a", a)) == "unknown_key")
        #expect(Self.refusal(keyless, T.token(header: ["alg": "ES256"], claims: T.claims(), sign: T.es256(a))) == "tokens_not_accepted")

        provider.serve([("a", a)])
        provider.advance(.seconds(10))
        await Self.tick(keyless, provider)
        #expect(keyless.notReadyReason == nil)
        #expect(try keyless.verify(Self.token("a", a), at: T.now).user == "alice")
    }

    @Test func answersPastTheSizeOrTimeLimitAreRefused() async throws {
        let provider = Provider()
        let a = P256.Signing.PrivateKey()
        provider.serve([("a", a)])
        let auth = try await Self.authenticator(provider) { $0.maxSize = 1000 }
        #expect(await auth.jwks?.refresh() == true)
        let head = try #require(provider.served.withLockedValue { $0 }).dropLast() + Array(#","padding":""#.utf8)
        let padded = Array(head) + Array(repeating: UInt8(ascii: "x"), count: 1000 - head.count - 2) + Array(#""}"#.utf8)
        #expect(padded.count == 1000)
        provider.served.withLockedValue { $0 = padded }
        provider.advance(.seconds(300))
        #expect(await auth.jwks?.refresh() == true)
        provider.served.withLockedValue { $0 = padded + [UInt8(ascii: " ")] }
        provider.advance(.seconds(300))
        #expect(await auth.jwks?.refresh() == false)
        #expect(provider.sizes.withLockedValue { $0 }.allSatisfy { $0 == 1000 })
        #expect(try auth.verify(Self.token("a", a), at: T.now).user == "alice")

        // A provider that never answers: given up after the timeout.
        let silent = JWKSSource(
            settings: .init(url: "https://id.example/jwks", timeout: .milliseconds(200)), ring: KeyRing(configured: []),
            logger: Logger(label: "test"), fetch: { _, _, _ in try await Task.sleep(for: .seconds(60)); return [] })
        let started = ContinuousClock.now
        #expect(await silent.refresh() == false)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(silent.notReadyReason?.contains("no answer within") == true)

        let tooLong = JWKSSource(
            settings: .init(url: "https://id.example/jwks", maxSize: 10), ring: KeyRing(configured: []), logger: Logger(label: "test"),
            fetch: { _, _, _ in Array(repeating: UInt8(ascii: " "), count: 11) })
        #expect(await tooLong.refresh() == false)
        #expect(tooLong.notReadyReason?.contains("longer than 10 bytes") == true)
    }

    @Test func aFetchedJWKSSkipsKeysThisNodeCannotUse() async throws {
        let provider = Provider()
        let a = P256.Signing.PrivateKey()
        var json = try #require(try JSONSerialization.jsonObject(with: Data(Self.jwks([("a", a)]))) as? [String: Any])
        let good = try #require((json["keys"] as? [[String: Any]])?.first)
        var encryption = good
        encryption["kid"] = "enc-1"
        encryption["use"] = "enc"
        encryption["alg"] = "ECDH-ES"
        json["keys"] = [
            ["kty": "oct", "kid": "hmac", "k": "c2VjcmV0"], encryption, ["kty": "EC", "crv": "P-256", "kid": "broken", "x": "AA", "y": "AA"], good,
        ]
        provider.served.withLockedValue { $0 = Array(try! JSONSerialization.data(withJSONObject: json)) }
        let auth = try await Self.authenticator(provider)
        #expect(await auth.jwks?.refresh() == true)
        #expect(try auth.verify(Self.token("a", a), at: T.now).user == "alice")
        #expect(auth.keyRing.keys.keysByID.keys.sorted() == ["a"])

        provider.served.withLockedValue { $0 = Array(#"{"keys":[{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}]}"#.utf8) }
        provider.advance(.seconds(300))
        #expect(await auth.jwks?.refresh() == false)
        provider.served.withLockedValue { $0 = Array("<html>".utf8) }
        provider.advance(.seconds(300))
        #expect(await auth.jwks?.refresh() == false)
        #expect(try auth.verify(Self.token("a", a), at: T.now).user == "alice")
    }

    @Test func runFetchesWhenDueAndStopsWhenCancelled() async throws {
        let fetches = NIOLockedValueBox(0)
        let a = P256.Signing.PrivateKey()
        let ring = KeyRing(configured: [])
        let source = JWKSSource(
            settings: .init(url: "https://id.example/jwks", minimumInterval: .milliseconds(100), tick: .milliseconds(10)), ring: ring,
            logger: Logger(label: "test"),
            fetch: { _, _, _ in
                fetches.withLockedValue { $0 += 1 }
                return Self.jwks([("a", a)])
            })
        let running = Task { await source.run() }
        try await eventually("the first fetch, a tick after it starts") { fetches.withLockedValue { $0 } == 1 }
        try await Task.sleep(for: .milliseconds(200))
        #expect(fetches.withLockedValue { $0 } == 1)
        source.keyIDMissed()
        try await eventually("the fetch the unknown kid asked for") { fetches.withLockedValue { $0 } == 2 }
        running.cancel()
        await running.value
    }

    /// In the node's service group the refresh stops at its turn in the drain, not only when cancelled.
    @Test func runStopsAtItsGracefulShutdown() async throws {
        let source = JWKSSource(
            settings: .init(url: "https://id.example/jwks", tick: .milliseconds(10)), ring: KeyRing(configured: []), logger: Logger(label: "test"),
            fetch: { _, _, _ in Self.jwks([("a", P256.Signing.PrivateKey())]) })
        let group = ServiceGroup(services: [source], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await eventually("the first fetch") { source.notReadyReason == nil }
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
