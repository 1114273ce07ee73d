import ArgumentParser

/// `sse-chaos <scenario>`: runs one scenario. One generic command serves them all; the scenario type
/// supplies the name and description.
struct ScenarioCommand<Scenario: ChaosScenario>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Scenario.name, abstract: Scenario.abstract)
    }

    @OptionGroup var options: ScenarioOptions

    func run() async throws {
        try await ChaosSuite.run([Scenario.self], options: options)
    }
}
