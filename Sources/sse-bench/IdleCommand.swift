import ArgumentParser
import Foundation

/// `sse-bench idle`: the server's memory per idle stream.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Opens N streams and reports the server's resident memory per stream.",
        discussion: """
            Reads VmRSS from /proc/<pid>/status before opening any stream, opens them in batches until each \
            got its response head, waits --settle seconds, reads VmRSS again and prints (after − before) / opened. \
            With several --pid, their memory is summed. Streams are anonymous unless --users names them \
            (user=<prefix><i mod users>). With --jwt-secret or --jwt-key-file each stream sends a token \
            for its user instead (minted before the first stream opens; each stream its own user unless \
            --users), so the server holds each stream's claims; the URL's channel= parameters are granted in it.
            """
    )

    @OptionGroup var subscribers: SubscriberOptions

    @Option(help: "Stream i is user <prefix><i mod users> (default: anonymous streams; with tokens, each stream its own user).")
    var users: Int?

    @OptionGroup var auth: TokenOptions
    @OptionGroup var servers: ServerOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let users, users <= 0 { throw ValidationError("--users must be positive") }
    }

    func run() async throws {
        let probes = servers.pids.map(ProcessProbe.init(pid:))
        let counters = LiveCounters()
        let connections = subscribers.connections
        let userCount = users ?? (auth.enabled ? connections : nil)
        let prefix = "idle-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))-"
        var endpoint = try StreamEndpoint(url: subscribers.url, userPrefix: userCount == nil ? nil : prefix, userCount: userCount)
        let tokens = try await auth.mint(defaultCount: connections, channels: endpoint.channels) { [endpoint] in endpoint.user(index: $0)! }
        endpoint = endpoint.with(tokens)
        let pool = SubscriberPool(endpoint: endpoint, threads: subscribers.clientThreads, counters: counters)
        let progress = ProgressReporter(enabled: output.progress) {
            let now = counters.values
            return "opened \(now.opened)/\(connections) (\(now.openFailed) failed)"
        }
        let before = try probes.reduce(0) { $0 + (try $1.residentKiB()) }
        let ramp = await pool.open(count: connections, batch: subscribers.batch, timeout: subscribers.openTimeout)
        try await Task.sleep(for: .seconds(subscribers.settle))
        let after = try probes.reduce(0) { $0 + (try $1.residentKiB()) }
        progress.stop()
        let result = IdleResult(
            connections: connections, opened: ramp.opened, failed: ramp.failed, firstError: ramp.firstError,
            rampSeconds: ramp.seconds, serverRSSBeforeKiB: before, serverRSSAfterKiB: after,
            rssPerConnectionKiB: ramp.opened > 0 ? Double(after - before) / Double(ramp.opened) : 0,
            clientRSSKiB: (try? ProcessProbe.current.residentKiB()) ?? 0, users: userCount, tokens: tokens?.summary
        )
        await pool.shutdown()
        try output.emit(result)
    }
}
