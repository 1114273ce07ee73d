import Logging

/// One chaos scenario: who the clients are, and what goes wrong while numbered events flow to them.
/// `ScenarioRunner` does everything else (cluster, clients, publisher, settling, checking).
protocol ChaosScenario: Sendable {
    /// The subcommand name, e.g. "kill-node".
    static var name: String { get }
    static var abstract: String { get }

    init()

    /// Runs once the servers and nodes are up, before any client connects (e.g. to start listening to
    /// what the nodes publish); by default nothing.
    func prepare(_ cluster: ChaosCluster, logger: Logger) async throws

    /// Flags every node of this scenario is started with besides the suite's own; by default none.
    var nodeArguments: [String] { get }

    /// The clients; by default `ClientPlan.roster`.
    func clientPlans(_ settings: RunSettings) -> [ClientPlan]

    /// Users whose events are bigger or more frequent; by default none.
    func traffic(_ settings: RunSettings) -> [Int: UserTraffic]

    /// Runs the faults, timed with `context.at(_:)`, while the publisher sends; returns once the last
    /// fault is over (a node back, a server up). Throws if a fault could not be carried out.
    func injectFaults(_ context: ScenarioContext) async throws

    /// Checks that need the final state of the clients, once every client has disconnected; by
    /// default none.
    func finalChecks(_ context: ScenarioContext) async -> [ScenarioCheck]

    /// Runs last, whatever happened, before the nodes and servers stop: undoes `prepare`.
    func tearDown() async
}

extension ChaosScenario {
    func prepare(_ cluster: ChaosCluster, logger: Logger) async throws {}

    func tearDown() async {}

    var nodeArguments: [String] { [] }

    func clientPlans(_ settings: RunSettings) -> [ClientPlan] {
        ClientPlan.roster(users: settings.users, ports: settings.nodePorts)
    }

    func traffic(_ settings: RunSettings) -> [Int: UserTraffic] { [:] }

    func finalChecks(_ context: ScenarioContext) async -> [ScenarioCheck] { [] }
}

/// Every scenario, in the order `all` runs them.
enum Scenarios {
    static let all: [any ChaosScenario.Type] = [
        BaselineScenario.self,
        KillNodeScenario.self,
        RabbitMQRestartScenario.self,
        RedisRestartScenario.self,
        RollingRestartScenario.self,
        StalledClientScenario.self,
        OfflineUserScenario.self,
        LifecycleBalanceScenario.self,
    ]
}
