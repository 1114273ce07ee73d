import ArgumentParser

/// `sse-bench idle`: the server's memory per idle stream.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Opens N streams and reports the server's resident memory per stream.",
        discussion: """
            Reads VmRSS from /proc/<pid>/status before opening any stream, opens them in batches until each \
            got its response head, waits --settle seconds, reads VmRSS again and prints (after − before) / opened. \
            With several --pid, their memory is summed.
            """
    )

    @OptionGroup var subscribers: SubscriberOptions
    @OptionGroup var servers: ServerOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let probes = servers.pids.map(ProcessProbe.init(pid:))
        let counters = LiveCounters()
        let pool = SubscriberPool(endpoint: try StreamEndpoint(url: subscribers.url), threads: subscribers.clientThreads, counters: counters)
        let connections = subscribers.connections
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
            clientRSSKiB: (try? ProcessProbe.current.residentKiB()) ?? 0
        )
        await pool.shutdown()
        try output.emit(result)
    }
}
