import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import SSEClient
import SSEFanout
import Testing

/// `--jwks-url` on real nodes, with an identity provider that is a local HTTP server whose JWKS the
/// tests change: a key added there opens streams within seconds without a restart, a key removed stops
/// at the next refresh, and a node that cannot reach the URL at startup is not ready until it can.
@Suite struct JWKSURLTests {
    static let secret = "a-jwks-integration-test-secret-of-32-bytes"

    /// Serves a JWKS of P-256 keys at `url`, and signs tokens with them.
    final class IdentityProvider: Sendable {
        struct Key: Sendable {
            var kid: String
            var key: P256.Signing.PrivateKey
        }

        static let path = "/.well-known/jwks.json"
        let backend: TestBackend
        private let keys: NIOLockedValueBox<[Key]>

        private init(backend: TestBackend, keys: NIOLockedValueBox<[Key]>) {
            self.backend = backend
            self.keys = keys
        }

        static func start(_ kids: [String]) async throws -> IdentityProvider {
            let keys = NIOLockedValueBox(kids.map { Key(kid: $0, key: P256.Signing.PrivateKey()) })
            let backend = try await TestBackend.start { _ in
                .init(status: .ok, contentType: "application/json", body: Self.jwks(keys.withLockedValue { $0 }))
            }
            return IdentityProvider(backend: backend, keys: keys)
        }

        var url: String { backend.url + Self.path }
        /// GETs of the JWKS so far.
        var fetches: Int { backend.requests.filter { $0.uri == Self.path }.count }

        /// Publishes a new key under `kid`, keeping the others.
        func add(_ kid: String) {
            keys.withLockedValue { $0.append(Key(kid: kid, key: P256.Signing.PrivateKey())) }
        }

        func remove(_ kid: String) {
            keys.withLockedValue { $0.removeAll { $0.kid == kid } }
        }

        /// An ES256 token for `user` signed with the key `kid` (which may have been removed since).
        func token(user: String, kid: String, signedWith other: P256.Signing.PrivateKey? = nil) throws -> String {
            let key = try #require(other ?? keys.withLockedValue { $0.first { $0.kid == kid }?.key })
            let header = Data(#"{"alg":"ES256","typ":"JWT","kid":"\#(kid)"}"#.utf8).base64URL
            let claims = Data(#"{"sub":"\#(user)","exp":\#(Int(Date().timeIntervalSince1970) + 600)}"#.utf8).base64URL
            let signature = try key.signature(for: Array("\(header).\(claims)".utf8)).rawRepresentation
            return "\(header).\(claims).\(signature.base64URL)"
        }

        func key(_ kid: String) -> P256.Signing.PrivateKey? {
            keys.withLockedValue { $0.first { $0.kid == kid }?.key }
        }

        static func jwks(_ keys: [Key]) -> [UInt8] {
            let entries = keys.map { key in
                let raw = key.key.publicKey.rawRepresentation
                return #"{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"\#(key.kid)","x":"\#(raw.prefix(32).base64URL)","y":"\#(raw.suffix(32).base64URL)"}"#
            }
            return Array(#"{"keys":[\#(entries.joined(separator: ","))]}"#.utf8)
        }

        func stop() async { await backend.stop() }
    }

    /// A clustered node with authentication on and `jwksURL`, plus what `configure` sets.
    /// An operator's key: `/readyz` tells it why the node is not ready, not only which part.
    private static let apiKey = "jwks-test-api-key-0123456789"

    private func node(jwksURL: String, _ configure: @escaping (inout NodeConfiguration) -> Void = { _ in }) async throws -> TestCluster {
        try await TestCluster.start(nodes: 1) { configuration in
            configuration.auth.disabled = false
            configuration.auth.jwksURL = jwksURL
            configuration.auth.apiKeys = [Self.apiKey]
            configure(&configuration)
        }
    }

    /// 200 with the user the stream says it is for, or the refusal's status and code.
    private func open(_ cluster: TestCluster, _ token: String) async throws -> (status: Int, answer: String) {
        do {
            let (stream, info) = try await cluster.subscribe(0, "token=\(token)")
            await stream.close()
            return (200, info.user ?? "")
        } catch SSEClientError.unexpectedStatus(let status, let body) {
            return (status, try JSONDecoder().decode(ErrorAnswer.self, from: Data(body.utf8)).error)
        }
    }

    private func readiness(_ cluster: TestCluster) async throws -> (status: Int, reasons: [String]) {
        let answer = try await HTTPClient().request("GET", cluster.url(0, "/readyz"), headers: [("X-API-Key", Self.apiKey)])
        let body = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
        return (answer.status, body?["reasons"] as? [String] ?? [])
    }

    @Test func aKeyAddedAtTheProviderOpensStreamsWithinSecondsWithoutARestart() async throws {
        let provider = try await IdentityProvider.start(["first"])
        let cluster = try await node(jwksURL: provider.url)
        defer { Task { await cluster.stop(); await provider.stop() } }
        try await cluster.waitReady()
        let user = TestEnvironment.uniqueName("u")
        #expect(try await open(cluster, provider.token(user: user, kid: "first")) == (200, user))

        provider.add("second")
        let token = try provider.token(user: user, kid: "second")
        // Refused at once while the node has not fetched it (nothing waits for the network), then
        // taken: the unknown kid made the node fetch the JWKS again, long before its 5-minute refresh.
        #expect(try await open(cluster, token) == (401, "unknown_key"))
        let added = ContinuousClock.now
        var attempts = 1
        try await TestEnvironment.eventually(timeout: .seconds(20), "a token signed with the added key opens a stream") {
            attempts += 1
            return try await open(cluster, token) == (200, user)
        }
        #expect(ContinuousClock.now - added < .seconds(15))
        // However many tokens named the unknown kid, the provider was asked once more, not once per token.
        #expect(attempts > 10)
        #expect(provider.fetches <= 3, "\(provider.fetches) fetches for \(attempts) tokens")
        // The first key still works alongside.
        #expect(try await open(cluster, provider.token(user: user, kid: "first")) == (200, user))
    }

    @Test func aKeyRemovedAtTheProviderStopsWorkingAfterTheRefresh() async throws {
        let provider = try await IdentityProvider.start(["old", "new"])
        let cluster = try await node(jwksURL: provider.url) { $0.auth.jwksRefresh = .seconds(1) }
        defer { Task { await cluster.stop(); await provider.stop() } }
        try await cluster.waitReady()
        let user = TestEnvironment.uniqueName("u")
        let oldKey = try #require(provider.key("old"))
        let old = try provider.token(user: user, kid: "old")
        #expect(try await open(cluster, old) == (200, user))

        provider.remove("old")
        try await TestEnvironment.eventually(timeout: .seconds(10), "the removed key refused") {
            try await open(cluster, old) == (401, "unknown_key")
        }
        // Nor does a fresh token signed with it pass, while the remaining key still does.
        #expect(try await open(cluster, provider.token(user: user, kid: "old", signedWith: oldKey)) == (401, "unknown_key"))
        #expect(try await open(cluster, provider.token(user: user, kid: "new")) == (200, user))
        #expect(try await readiness(cluster).status == 200)
    }

    @Test func aNodeThatCannotReachTheURLAtStartupIsNotReadyUntilItCan() async throws {
        let provider = try await IdentityProvider.start(["k1"])
        let relay = try await TCPRelay.start(to: "127.0.0.1", port: provider.backend.port)
        await relay.cut()
        let cluster = try await node(jwksURL: "http://127.0.0.1:\(relay.port)\(IdentityProvider.path)") { configuration in
            configuration.auth.jwtSecret = Self.secret
            configuration.auth.jwksRefresh = .seconds(2)
        }
        defer { Task { await cluster.stop(); await relay.cut(); await provider.stop() } }
        // RabbitMQ and Redis come within moments; the JWKS URL is what stays.
        try await TestEnvironment.eventually("only the JWKS URL keeps the node unready") {
            let (status, reasons) = try await readiness(cluster)
            return status == 503 && reasons.count == 1 && reasons[0].hasPrefix("no token keys yet from the JWKS URL")
        }
        // A probe without the operator's key learns which part is not ready, not the URL or the error.
        let probe = try await HTTPClient().request("GET", cluster.url(0, "/readyz"))
        #expect((try JSONSerialization.jsonObject(with: Data(probe.body)) as? [String: Any])?["reasons"] as? [String] == ["no token keys yet from the JWKS URL"])
        let user = TestEnvironment.uniqueName("u")
        let token = try provider.token(user: user, kid: "k1")
        #expect(try await open(cluster, token) == (401, "unknown_key"))
        // The configured secret works meanwhile.
        var configuration = AuthConfiguration()
        configuration.jwtSecret = Self.secret
        let minted = try await Authenticator.load(configuration).mint(user: user, ttl: .seconds(600))
        #expect(try await open(cluster, minted) == (200, user))

        try await relay.open()
        try await TestEnvironment.eventually(timeout: .seconds(15), "ready once the URL serves keys") {
            try await readiness(cluster).status == 200
        }
        #expect(try await open(cluster, token) == (200, user))
        #expect(try await open(cluster, minted) == (200, user))
    }

    @Test func aJWKSThatIsTooLargeOrTooSlowGivesNoKeys() async throws {
        let large = try await TestBackend.start { _ in
            .init(status: .ok, contentType: "application/json", body: Array(repeating: UInt8(ascii: " "), count: 2 * 1024 * 1024))
        }
        let silent = try await TestBackend.start { _ in
            try? await Task.sleep(for: .seconds(30))
            return .init(status: .ok, contentType: "application/json", body: [])
        }
        defer { Task { await large.stop(); await silent.stop() } }
        let started = ContinuousClock.now
        let tooLarge = try await node(jwksURL: large.url + "/jwks")
        let tooSlow = try await node(jwksURL: silent.url + "/jwks")
        defer { Task { await tooLarge.stop(); await tooSlow.stop() } }
        // The node started after the time limit (5 s), not the backend's 30 s.
        #expect(ContinuousClock.now - started < .seconds(15))
        try await TestEnvironment.eventually("the large JWKS refused") {
            try await readiness(tooLarge).reasons.contains { $0.contains("longer than 1048576 bytes") }
        }
        try await TestEnvironment.eventually("the slow JWKS given up") {
            try await readiness(tooSlow).reasons.contains { $0.contains("no answer within 5") }
        }
    }
}
