import ArgumentParser

/// `sse-chaos`: chaos scenarios against a real sse-fanout cluster on this machine.
@main
struct SSEChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sse-chaos",
        abstract: "Chaos scenarios for an sse-fanout cluster: real nodes, redis-server and rabbitmq-server, faults, and a per-client delivery check.",
        discussion: """
            Each scenario starts its own redis-server and rabbitmq-server (scripts/services.sh, on their own ports \
            and data directory) and N nodes of the built sse-fanout binary, connects clients that resume with \
            Last-Event-ID like a browser's EventSource, publishes numbered events to their users, does its faults, \
            and counts for every client the events lost, duplicated and out of order. It exits non-zero unless all \
            three are 0 for every client (--report-only: always 0). Everything listens on 127.0.0.1 only.
            """,
        subcommands: [
            ScenarioCommand<BaselineScenario>.self,
            ScenarioCommand<KillNodeScenario>.self,
            ScenarioCommand<RabbitMQRestartScenario>.self,
            ScenarioCommand<RedisRestartScenario>.self,
            ScenarioCommand<RollingRestartScenario>.self,
            ScenarioCommand<StalledClientScenario>.self,
            ScenarioCommand<OfflineUserScenario>.self,
            ScenarioCommand<LifecycleBalanceScenario>.self,
            AllCommand.self,
        ]
    )
}
