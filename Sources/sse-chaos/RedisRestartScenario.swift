/// Redis restarts mid-stream with whatever it persisted (see scripts/services.sh): nodes must rebuild
/// what they registered, and history must survive or be reported with `reset`.
struct RedisRestartScenario: ChaosScenario {
    static let name = "redis-restart"
    static let abstract = "Stop redis-server mid-stream (scripts/services.sh stop-redis), start it again after --outage seconds."

    func injectFaults(_ context: ScenarioContext) async throws {
        try await ServiceOutage(service: "redis-server", stop: { try await $0.stopRedis() }, start: { try await $0.startRedis() }).inject(context)
    }
}
