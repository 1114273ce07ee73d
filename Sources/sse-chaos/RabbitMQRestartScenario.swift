/// The broker goes away mid-stream and comes back: nodes must reconnect, redeclare and carry on, and
/// publishes refused meanwhile are retried by the publisher.
struct RabbitMQRestartScenario: ChaosScenario {
    static let name = "rabbitmq-restart"
    static let abstract = "Stop rabbitmq-server mid-stream (scripts/services.sh stop-rabbitmq), start it again after --outage seconds."

    func injectFaults(_ context: ScenarioContext) async throws {
        try await ServiceOutage(service: "rabbitmq-server", stop: { try await $0.stopRabbitMQ() }, start: { try await $0.startRabbitMQ() }).inject(context)
    }
}
