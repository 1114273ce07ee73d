/// The fault both restart scenarios inject: a service stopped a third into the run, started again
/// after `--outage` seconds, then the wait for every node to be ready.
struct ServiceOutage {
    let service: String
    let stop: @Sendable (ServiceController) async throws -> Void
    let start: @Sendable (ServiceController) async throws -> Void

    func inject(_ context: ScenarioContext) async throws {
        let services = context.cluster.services
        try await context.at(1.0 / 3)
        context.timeline.record("stopping \(service)")
        try await stop(services)
        context.timeline.record("\(service) stopped")
        try await Task.sleep(for: context.settings.outage)
        context.timeline.record("starting \(service)")
        try await start(services)
        context.timeline.record("\(service) up")
        if let seconds = try await context.cluster.waitUntilLiveNodesReady(timeout: .seconds(60)) {
            context.timeline.record("every node ready again after \(seconds) s")
        } else {
            context.timeline.record("some node still not ready 60 s after \(service) came back")
        }
    }
}
