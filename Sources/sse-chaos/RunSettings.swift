import Foundation
import Logging

/// The resolved settings of a run: options with defaults filled in and paths found.
struct RunSettings: Sendable {
    var duration: Duration
    var rate: Double
    var nodePorts: [Int]
    var users: Int
    var redisPort: Int
    var amqpPort: Int
    var servicesDirectory: String
    var runRoot: String
    var binary: String
    var servicesScript: String
    var outage: Duration
    var stallPadding: Int
    var stallWeight: Int
    var maxMemoryGrowthMiB: Double
    var maxLatencyIncreaseMs: Double
    var settleTimeout: Duration
    var publishGiveUp: Duration
    var defaultRetry: Duration
    var jsonPath: String?
    var reportOnly: Bool

    /// Resolves `options`; finding the node binary may run `swift build --show-bin-path`.
    init(_ options: ScenarioOptions) throws {
        let layout = try RepositoryLayout.locate(explicit: options.repository)
        let binary = try options.binary ?? layout.defaultNodeBinary()
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw ChaosError.binaryMissing(binary) }
        self.duration = .seconds(options.duration)
        self.rate = options.rate
        self.nodePorts = (0..<options.nodes).map { options.basePort + $0 }
        self.users = options.users
        self.redisPort = options.redisPort
        self.amqpPort = options.amqpPort
        self.servicesDirectory = options.servicesDirectory
        self.runRoot = options.runDirectory ?? layout.defaultRunDirectory
        self.binary = binary
        self.servicesScript = layout.servicesScript
        self.outage = .seconds(options.outage)
        self.stallPadding = options.stallPadding
        self.stallWeight = options.stallWeight
        self.maxMemoryGrowthMiB = options.maxMemoryGrowth
        self.maxLatencyIncreaseMs = options.maxLatencyIncrease
        self.settleTimeout = .seconds(options.settleTimeout)
        self.publishGiveUp = .seconds(options.publishGiveUp)
        self.defaultRetry = .milliseconds(options.defaultRetry)
        self.jsonPath = options.json
        self.reportOnly = options.reportOnly
    }
}
