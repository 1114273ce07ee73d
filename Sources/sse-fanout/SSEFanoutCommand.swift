import ArgumentParser

@main
struct SSEFanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sse-fanout",
        abstract: "Pushes Server-Sent Events to browsers and apps from a cluster of nodes.",
        subcommands: [ServeCommand.self, PublishCommand.self, TokenCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
