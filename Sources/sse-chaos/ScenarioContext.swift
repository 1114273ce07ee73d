import Logging
import NIOConcurrencyHelpers

/// What a scenario's fault script works with while events flow: the cluster, the clients, the clock
/// and the timeline, and a place to leave extra checks.
struct ScenarioContext: Sendable {
    let settings: RunSettings
    let cluster: ChaosCluster
    let clients: [ResumingClient]
    let clock: ScenarioClock
    let timeline: FaultTimeline
    let logger: Logger
    private let checks = Checks()

    private final class Checks: Sendable {
        let list = NIOLockedValueBox<[ScenarioCheck]>([])
    }

    init(settings: RunSettings, cluster: ChaosCluster, clients: [ResumingClient], clock: ScenarioClock, timeline: FaultTimeline, logger: Logger) {
        self.settings = settings
        self.cluster = cluster
        self.clients = clients
        self.clock = clock
        self.timeline = timeline
        self.logger = logger
    }

    /// Sleeps until `fraction` of the publishing window has passed (the fault's own timing).
    func at(_ fraction: Double) async throws {
        try await clock.sleep(untilOffset: settings.duration * fraction)
    }

    func addCheck(_ check: ScenarioCheck) {
        checks.list.withLockedValue { $0.append(check) }
    }

    var addedChecks: [ScenarioCheck] { checks.list.withLockedValue { $0 } }
}
