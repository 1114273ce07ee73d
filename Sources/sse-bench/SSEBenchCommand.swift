import ArgumentParser

/// `sse-bench`: load scenarios against an SSE server on this machine (sse-fanout, or nginx+nchan to compare).
/// Each scenario is a subcommand; each shows progress on standard error, then prints a table and one
/// `RESULT {json}` line for scripts (and the JSON to a file with `--json`). `chart` draws results as SVG.
@main
struct SSEBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sse-bench",
        abstract: "Load scenarios for Server-Sent Events servers (sse-fanout, nginx+nchan).",
        discussion: """
            Streams are SwiftNIO channels on a few event loops, except a broadcast's, which one thread of their \
            own reads with epoll (--reader): no thread and no task per connection. \
            The server's memory and CPU are read from /proc/<pid>, so the server must run on this machine.
            """,
        subcommands: [IdleCommand.self, BroadcastCommand.self, CalibrateCommand.self, UnicastCommand.self, ChurnCommand.self, ChartCommand.self]
    )
}
