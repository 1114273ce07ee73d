import Configuration
import Foundation
import Logging
import Redis
import SystemPackage

/// Builds a `NodeConfiguration` from, in increasing precedence: the JSON config file,
/// `SSE_FANOUT_*` environment variables, and command-line flags.
///
/// A setting's JSON key is its dotted key (`http.port` is `{"http": {"port": …}}`); its environment
/// variable is `SSE_FANOUT_` plus the key in upper snake case (`SSE_FANOUT_HTTP_PORT`).
public enum ConfigurationLoader {
    public static let environmentPrefix = "sseFanout"

    /// The environment variable that sets `key`.
    public static func environmentName(for key: String) -> String {
        var name = "SSE_FANOUT"
        for component in key.split(separator: ".") {
            name += "_"
            var previousLowercase = false
            for character in component {
                if character.isUppercase, previousLowercase { name += "_" }
                name += character.uppercased()
                previousLowercase = character.isLowercase
            }
        }
        return name
    }

    /// - Parameters:
    ///   - flags: values given on the command line, by dotted key.
    ///   - file: path of a JSON config file, if any.
    ///   - environment: the environment to read; the process's own when nil.
    public static func load(
        flags: [String: ConfigContent] = [:], file: String? = nil, environment: [String: String]? = nil
    ) async throws -> NodeConfiguration {
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags {
            flagValues[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(value, isSecret: false)
        }
        let environmentProvider = environment.map { EnvironmentVariablesProvider(environmentVariables: $0) } ?? EnvironmentVariablesProvider()
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: flagValues),
            environmentProvider.prefixKeys(with: ConfigKey(environmentPrefix)),
        ]
        if let file {
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
        }
        return try read(ConfigReader(providers: providers))
    }

    static func read(_ config: ConfigReader) throws -> NodeConfiguration {
        var c = NodeConfiguration()
        c.host = config.string(forKey: "http.host", default: c.host)
        c.port = config.int(forKey: "http.port", default: c.port)
        c.maxBodySize = config.int(forKey: "http.maxBodySize", default: c.maxBodySize)
        c.maxHeaderSize = config.int(forKey: "http.maxHeaderSize", default: c.maxHeaderSize)
        c.maxBatchItems = config.int(forKey: "http.maxBatchItems", default: c.maxBatchItems)
        c.requestTimeout = try config.seconds(forKey: "http.requestTimeout", default: 10)
        c.idleTimeout = try config.seconds(forKey: "http.idleTimeout", default: 60)
        c.maxUploadSize = config.int(forKey: "http.maxUploadSize", default: c.maxUploadSize)
        c.upstreamURL = config.string(forKey: "upstream.url").flatMap { $0.isEmpty ? nil : $0 }
        c.upstreamTimeout = try config.seconds(forKey: "upstream.timeout", default: 30)
        c.upstreamMaxResponseSize = config.int(forKey: "upstream.maxResponseSize", default: c.upstreamMaxResponseSize)
        c.upstreamMaxHeldBytes = config.int(forKey: "upstream.maxHeldBytes", default: c.upstreamMaxHeldBytes)
        c.corsOrigins = config.stringArray(forKey: "http.corsOrigins", default: c.corsOrigins)
        c.nodeID = config.string(forKey: "node.id")
        c.standalone = config.bool(forKey: "node.standalone", default: c.standalone)
        c.demo = config.bool(forKey: "node.demo", default: c.demo)
        c.nodeLease = try config.seconds(forKey: "node.lease", default: 10)
        c.threads = config.int(forKey: "node.threads", default: c.threads)
        c.drainWindow = try config.seconds(forKey: "node.drainWindow", default: 5)
        c.amqpURL = config.string(forKey: "amqp.url", isSecret: true, default: c.amqpURL)
        c.prefetch = config.int(forKey: "amqp.prefetch", default: c.prefetch)
        c.queueExpiry = try config.seconds(forKey: "amqp.queueExpiry", default: 3600)
        c.messageTTL = try config.seconds(forKey: "amqp.messageTTL", default: 30)
        c.redisURL = config.string(forKey: "redis.url", isSecret: true, default: c.redisURL)
        // A list, or one string of comma-separated host:port (SSE_FANOUT_REDIS_SENTINELS).
        c.redisSentinels = config.stringArray(forKey: "redis.sentinels", default: c.redisSentinels)
            .flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        c.redisMasterName = config.string(forKey: "redis.masterName", default: c.redisMasterName)
        c.redisSentinelPassword = config.string(forKey: "redis.sentinelPassword", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        c.redisKeyPrefix = config.string(forKey: "redis.keyPrefix", default: c.redisKeyPrefix)
        c.historyMaxLength = config.int(forKey: "history.maxLength", default: c.historyMaxLength)
        c.historyMaxAge = try config.seconds(forKey: "history.maxAge", default: 3600)
        c.heartbeatInterval = try config.seconds(forKey: "sse.heartbeatInterval", default: 15)
        c.retryMillis = config.int(forKey: "sse.retry", default: c.retryMillis)
        c.maxBufferedBytes = config.int(forKey: "sse.maxBufferedBytes", default: c.maxBufferedBytes)
        c.memoryTrimThreshold = config.int(forKey: "node.memoryTrimThreshold", default: c.memoryTrimThreshold)
        c.metricsEnabled = config.bool(forKey: "metrics.enabled", default: c.metricsEnabled)
        c.writeDelay = .milliseconds(config.int(forKey: "sse.writeDelay", default: 0))
        c.pacing = config.bool(forKey: "sse.pacing", default: c.pacing)
        c.pacingBudget = .milliseconds(config.int(forKey: "sse.pacingBudget", default: 100))
        c.auth = try AuthConfiguration.read(config)
        c.maxConnections = config.int(forKey: "limits.maxConnections", default: c.maxConnections)
        c.maxConnectionsPerUser = config.int(forKey: "limits.maxConnectionsPerUser", default: c.maxConnectionsPerUser)
        c.maxConnectionsPerAddress = config.int(forKey: "limits.maxConnectionsPerAddress", default: c.maxConnectionsPerAddress)
        let policy = config.string(forKey: "limits.overUserLimit", default: c.overUserLimit.rawValue)
        guard let overUserLimit = NodeConfiguration.UserLimitPolicy(rawValue: policy) else {
            throw ConfigurationError("limits.overUserLimit must be close-oldest or refuse-new; got '\(policy)'")
        }
        c.overUserLimit = overUserLimit
        c.kickBar = try config.seconds(forKey: "limits.kickBar", default: 300)
        c.lifecycleEvents = config.stringArray(forKey: "lifecycle.events", default: c.lifecycleEvents)
        let level = config.string(forKey: "log.level", default: "info")
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigurationError("log.level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")); got '\(level)'")
        }
        c.logLevel = logLevel
        try validate(c)
        return c
    }

    static func validate(_ c: NodeConfiguration) throws {
        guard (0...65535).contains(c.port) else { throw ConfigurationError("http.port must be 0…65535; got \(c.port)") }
        guard c.maxBodySize > 0 else { throw ConfigurationError("http.maxBodySize must be positive") }
        guard c.maxUploadSize > 0, c.upstreamMaxResponseSize > 0 else {
            throw ConfigurationError("http.maxUploadSize and upstream.maxResponseSize must be positive")
        }
        guard c.upstreamMaxHeldBytes >= max(c.maxBodySize, c.maxUploadSize) else {
            throw ConfigurationError("upstream.maxHeldBytes must be at least http.maxBodySize and http.maxUploadSize, so one send or upload fits")
        }
        guard c.upstreamTimeout > .zero else { throw ConfigurationError("upstream.timeout must be positive") }
        if let url = c.upstreamURL {
            let lowered = url.lowercased()
            guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), url.split(separator: "/", omittingEmptySubsequences: true).count >= 2,
                !url.contains("?"), !url.contains("#")
            else {
                throw ConfigurationError("upstream.url must be an http:// or https:// URL with a host and no query; got '\(url)'")
            }
        }
        guard c.maxBatchItems >= 1 else { throw ConfigurationError("http.maxBatchItems must be at least 1") }
        guard c.maxHeaderSize >= 1024 else { throw ConfigurationError("http.maxHeaderSize must be at least 1024") }
        guard c.requestTimeout > .zero, c.idleTimeout > .zero else {
            throw ConfigurationError("http.requestTimeout and http.idleTimeout must be positive")
        }
        guard c.heartbeatInterval > .zero else { throw ConfigurationError("sse.heartbeatInterval must be positive") }
        guard c.writeDelay >= .zero, c.writeDelay <= .seconds(1) else { throw ConfigurationError("sse.writeDelay must be 0…1000 milliseconds") }
        guard c.pacingBudget >= .zero, c.pacingBudget <= .seconds(1) else { throw ConfigurationError("sse.pacingBudget must be 0…1000 milliseconds") }
        guard c.maxBufferedBytes >= 1024 else { throw ConfigurationError("sse.maxBufferedBytes must be at least 1024") }
        guard c.memoryTrimThreshold >= 0 else { throw ConfigurationError("node.memoryTrimThreshold must be 0 (off) or more") }
        guard (1...65535).contains(c.prefetch) else { throw ConfigurationError("amqp.prefetch must be 1…65535") }
        guard c.historyMaxLength >= 1 else { throw ConfigurationError("history.maxLength must be at least 1") }
        guard c.historyMaxAge >= .seconds(1) else { throw ConfigurationError("history.maxAge must be at least 1 second") }
        guard c.messageTTL > .zero, c.messageTTL < c.queueExpiry else { throw ConfigurationError("amqp.messageTTL must be positive and shorter than amqp.queueExpiry") }
        guard c.nodeLease >= .seconds(1) else { throw ConfigurationError("node.lease must be at least 1 second") }
        for sentinel in c.redisSentinels {
            do {
                _ = try RedisEndpoint(parsing: sentinel)
            } catch {
                throw ConfigurationError("redis.sentinels: \(error)")
            }
        }
        if !c.redisSentinels.isEmpty, c.redisMasterName.isEmpty {
            throw ConfigurationError("redis.masterName is required with redis.sentinels: the name the sentinels monitor the primary under")
        }
        guard c.maxConnections >= 0, c.maxConnectionsPerUser >= 0, c.maxConnectionsPerAddress >= 0 else {
            throw ConfigurationError(
                "limits.maxConnections, limits.maxConnectionsPerUser and limits.maxConnectionsPerAddress must be 0 (no limit) or positive")
        }
        let names = Set(LifecycleEvent.Kind.allCases.map(\.rawValue))
        guard c.lifecycleEvents.allSatisfy({ $0 == "*" || $0 == "none" || names.contains($0) }) else {
            throw ConfigurationError("lifecycle.events takes *, none or event names (\(names.sorted().joined(separator: ", "))); got \(c.lifecycleEvents)")
        }
        guard c.kickBar >= .zero else { throw ConfigurationError("limits.kickBar must not be negative") }
        if let id = c.nodeID {
            guard !id.isEmpty, id.utf8.count <= 200, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.:".contains($0) }) else {
                throw ConfigurationError("node.id must be 1…200 letters, digits, '-', '_', '.' or ':'; got '\(id)'")
            }
        }
    }
}

/// A setting with a value the node cannot run with.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
