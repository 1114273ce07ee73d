/// No fault: the yardstick. If this loses events, the checker or the cluster setup is wrong.
struct BaselineScenario: ChaosScenario {
    static let name = "baseline"
    static let abstract = "No fault: numbered events to every user's clients; everything must arrive once, in order."

    func injectFaults(_ context: ScenarioContext) async throws {}
}
