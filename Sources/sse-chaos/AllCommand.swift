import ArgumentParser

/// `sse-chaos all`: every scenario in turn, each on fresh servers and nodes.
struct AllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Runs every scenario in turn: \(Scenarios.all.map { $0.name }.joined(separator: ", "))."
    )

    @OptionGroup var options: ScenarioOptions

    func run() async throws {
        try await ChaosSuite.run(Scenarios.all, options: options)
    }
}
