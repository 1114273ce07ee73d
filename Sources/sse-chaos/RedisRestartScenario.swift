/// Redis restarts mid-stream with whatever it persisted (see scripts/services.sh): nodes must rebuild
/// what they registered, and history must survive or be reported with `reset`.
struct RedisRestartScenario: ChaosScenario {
    static let name = "redis-restart"
    static let abstract = "Stop redis-server mid-stream (scripts/services.sh stop-redis), start it again after --outage seconds."

    func injectFaults(_ context: ScenarioContext) async throws {
        let services = context.cluster.services
        try await context.at(1.0 / 3)
        context.timeline.record("stopping redis-server")
        try await services.stopRedis()
        context.timeline.record("redis-server stopped")
        try await Task.sleep(for: context.settings.outage)
        context.timeline.record("starting redis-server")
        try await services.startRedis()
        context.timeline.record("redis-server up")
        if let seconds = try await context.cluster.waitUntilLiveNodesReady(timeout: .seconds(60)) {
            context.timeline.record("every node ready again after \(seconds) s")
        } else {
            context.timeline.record("some node still not ready 60 s after redis-server came back")
        }
    }
}
