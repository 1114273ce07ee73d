/// The broker goes away mid-stream and comes back: nodes must reconnect, redeclare and carry on, and
/// publishes refused meanwhile are retried by the publisher.
struct RabbitMQRestartScenario: ChaosScenario {
    static let name = "rabbitmq-restart"
    static let abstract = "Stop rabbitmq-server mid-stream (scripts/services.sh stop-rabbitmq), start it again after --outage seconds."

    func injectFaults(_ context: ScenarioContext) async throws {
        let services = context.cluster.services
        try await context.at(1.0 / 3)
        context.timeline.record("stopping rabbitmq-server")
        try await services.stopRabbitMQ()
        context.timeline.record("rabbitmq-server stopped")
        try await Task.sleep(for: context.settings.outage)
        context.timeline.record("starting rabbitmq-server")
        try await services.startRabbitMQ()
        context.timeline.record("rabbitmq-server up")
        if let seconds = try await context.cluster.waitUntilLiveNodesReady(timeout: .seconds(60)) {
            context.timeline.record("every node ready again after \(seconds) s")
        } else {
            context.timeline.record("some node still not ready 60 s after rabbitmq-server came back")
        }
    }
}
