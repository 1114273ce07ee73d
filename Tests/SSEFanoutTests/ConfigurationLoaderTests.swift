import Configuration
import Foundation
import Testing

@testable import SSEFanout

@Suite struct ConfigurationLoaderTests {
    private func writeConfig(_ json: String) throws -> String {
        let path = try TestTokens.testFiles().appendingPathComponent("config-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsWithNothingGiven() async throws {
        let c = try await ConfigurationLoader.load(environment: [:])
        #expect(c.port == 8080 && c.host == "127.0.0.1")
        #expect(c.resolvedNodeID == "8080")
        #expect(c.heartbeatInterval == .seconds(15))
        #expect(c.maxBodySize == 65536)
        #expect(!c.standalone)
        #expect(c.pacing)
    }

    @Test func pacingCanBeTurnedOff() async throws {
        let c = try await ConfigurationLoader.load(environment: ["SSE_FANOUT_SSE_PACING": "false"])
        #expect(!c.pacing)
    }

    @Test func thePacingBudgetIsHundredMillisecondsAndBounded() async throws {
        #expect(try await ConfigurationLoader.load(environment: [:]).pacingBudget == .milliseconds(100))
        let c = try await ConfigurationLoader.load(environment: ["SSE_FANOUT_SSE_PACING_BUDGET": "40"])
        #expect(c.pacingBudget == .milliseconds(40))
        await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader.load(environment: ["SSE_FANOUT_SSE_PACING_BUDGET": "5000"])
        }
    }

    @Test func nodeIdDefaultsToThePort() async throws {
        let c = try await ConfigurationLoader.load(flags: ["http.port": .int(8082)], environment: [:])
        #expect(c.resolvedNodeID == "8082")
    }

    @Test func flagBeatsEnvironmentBeatsFile() async throws {
        let file = try writeConfig(#"{"http": {"port": 8001, "host": "0.0.0.0", "maxBodySize": 1000}, "node": {"id": "from-file"}, "log": {"level": "debug"}, "sse": {"heartbeatInterval": 2}}"#)
        let env = ["SSE_FANOUT_HTTP_PORT": "8002", "SSE_FANOUT_NODE_ID": "from-env", "SSE_FANOUT_HTTP_CORS_ORIGINS": "http://a,http://b"]
        let c = try await ConfigurationLoader.load(flags: ["http.port": .int(8003)], file: file, environment: env)
        #expect(c.port == 8003)
        #expect(c.nodeID == "from-env")
        #expect(c.host == "0.0.0.0")
        #expect(c.maxBodySize == 1000)
        #expect(c.logLevel == .debug)
        #expect(c.heartbeatInterval == .seconds(2))
        #expect(c.corsOrigins == ["http://a", "http://b"])
    }

    @Test func sentinelsComeAsAListWithThePrimarysName() async throws {
        let env = ["SSE_FANOUT_REDIS_SENTINELS": "10.0.0.1:26379, [::1]:26380", "SSE_FANOUT_REDIS_MASTER_NAME": "sse"]
        let c = try await ConfigurationLoader.load(environment: env)
        #expect(c.redisSentinels == ["10.0.0.1:26379", "[::1]:26380"])
        #expect(c.redisMasterName == "sse")
        let flags = try await ConfigurationLoader.load(flags: ["redis.sentinels": .stringArray(["a:1", "b:2"]), "redis.masterName": .string("m")], environment: [:])
        #expect(flags.redisSentinels == ["a:1", "b:2"])
        await #expect(throws: ConfigurationError.self, "sentinels without the primary's name") {
            try await ConfigurationLoader.load(environment: ["SSE_FANOUT_REDIS_SENTINELS": "10.0.0.1:26379"])
        }
        await #expect(throws: ConfigurationError.self, "a sentinel without its port") {
            try await ConfigurationLoader.load(environment: ["SSE_FANOUT_REDIS_SENTINELS": "10.0.0.1", "SSE_FANOUT_REDIS_MASTER_NAME": "sse"])
        }
    }

    @Test func environmentNamesFollowTheKeys() {
        #expect(ConfigurationLoader.environmentName(for: "http.port") == "SSE_FANOUT_HTTP_PORT")
        #expect(ConfigurationLoader.environmentName(for: "http.maxBodySize") == "SSE_FANOUT_HTTP_MAX_BODY_SIZE")
        #expect(ConfigurationLoader.environmentName(for: "sse.heartbeatInterval") == "SSE_FANOUT_SSE_HEARTBEAT_INTERVAL")
    }

    @Test func thePerAddressLimitIsOffUnlessGiven() async throws {
        #expect(try await ConfigurationLoader.load(environment: [:]).maxConnectionsPerAddress == 0)
        let c = try await ConfigurationLoader.load(environment: ["SSE_FANOUT_LIMITS_MAX_CONNECTIONS_PER_ADDRESS": "50"])
        #expect(c.maxConnectionsPerAddress == 50)
        await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader.load(flags: ["limits.maxConnectionsPerAddress": .int(-1)], environment: [:])
        }
    }

    @Test func upstreamSettingsHaveDefaultsAndAnUpstreamURLMustBeHTTP() async throws {
        let defaults = try await ConfigurationLoader.load(environment: [:])
        #expect(defaults.upstreamURL == nil)
        #expect(defaults.maxUploadSize == 10 * 1024 * 1024)
        #expect(defaults.upstreamTimeout == .seconds(30))
        let c = try await ConfigurationLoader.load(
            environment: ["SSE_FANOUT_UPSTREAM_URL": "https://backend.example/hooks", "SSE_FANOUT_UPSTREAM_TIMEOUT": "2.5", "SSE_FANOUT_HTTP_MAX_UPLOAD_SIZE": "1000"])
        #expect(c.upstreamURL == "https://backend.example/hooks")
        #expect(c.upstreamTimeout == .milliseconds(2500))
        #expect(c.maxUploadSize == 1000)
        for url in ["ftp://backend", "backend:9000", "http://", "http://backend/?x=1"] {
            await #expect(throws: ConfigurationError.self, "\(url)") { try await ConfigurationLoader.load(environment: ["SSE_FANOUT_UPSTREAM_URL": url]) }
        }
        await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader.load(environment: ["SSE_FANOUT_UPSTREAM_MAX_HELD_BYTES": "1024"])
        }
    }

    @Test func aJWKSURLIsAKeyAndComesFromAFlagTheEnvironmentOrTheFile() async throws {
        let url = "https://id.example/.well-known/jwks.json"
        let fromFlags = try await ConfigurationLoader.load(flags: ["auth.jwksUrl": .string(url), "auth.jwksRefresh": .double(60)], environment: [:])
        #expect(fromFlags.auth.jwksURL == url && fromFlags.auth.jwksRefresh == .seconds(60) && fromFlags.auth.isConfigured)
        let fromEnvironment = try await ConfigurationLoader.load(environment: ["SSE_FANOUT_AUTH_JWKS_URL": url])
        #expect(fromEnvironment.auth.jwksURL == url && fromEnvironment.auth.jwksRefresh == .seconds(300))
        let file = try writeConfig(#"{"auth": {"jwksUrl": "\#(url)", "jwksRefresh": 120}}"#)
        let fromFile = try await ConfigurationLoader.load(file: file, environment: [:])
        #expect(fromFile.auth.jwksURL == url && fromFile.auth.jwksRefresh == .seconds(120))
    }

    @Test func refusesUnusableValues() async {
        await #expect(throws: ConfigurationError.self) { try await ConfigurationLoader.load(flags: ["log.level": .string("loud")], environment: [:]) }
        await #expect(throws: ConfigurationError.self) { try await ConfigurationLoader.load(flags: ["http.port": .int(70000)], environment: [:]) }
        await #expect(throws: ConfigurationError.self) { try await ConfigurationLoader.load(flags: ["node.id": .string("a b")], environment: [:]) }
    }

    /// A duration too large for `Duration` (or not a number at all) is a configuration error, not a crash.
    @Test func refusesDurationsPastTenYears() async throws {
        let keys = [
            "http.requestTimeout", "http.idleTimeout", "node.lease", "node.drainWindow", "amqp.queueExpiry", "amqp.messageTTL",
            "history.maxAge", "sse.heartbeatInterval", "limits.kickBar", "auth.maxTokenLifetime", "auth.jwksRefresh",
        ]
        for key in keys {
            for value in [1e300, -1e300, .infinity, -1] {
                await #expect(throws: ConfigurationError.self, "\(key) = \(value)") {
                    try await ConfigurationLoader.load(flags: [key: .double(value)], environment: ["SSE_FANOUT_AUTH_DISABLED": "true"])
                }
            }
        }
        let c = try await ConfigurationLoader.load(flags: ["limits.kickBar": .double(0.25)], environment: [:])
        #expect(c.kickBar == .milliseconds(250))
    }

    @Test func theShippedConfigsLoad() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let node = try await ConfigurationLoader.load(file: root.appendingPathComponent("Configs/node.json").path, environment: [:])
        #expect(node.port == 8080)
        for port in [8081, 8082, 8083] {
            let c = try await ConfigurationLoader.load(file: root.appendingPathComponent("Configs/cluster/node-\(port).json").path, environment: [:])
            #expect(c.resolvedNodeID == String(port))
        }
    }
}
