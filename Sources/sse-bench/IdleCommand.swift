import ArgumentParser

/// `sse-bench idle`: the server's memory per idle stream.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Opens N streams and reports the server's resident memory per stream.",
        discussion: """
            Reads VmRSS from /proc/<pid>/status before opening any stream, opens them in batches until each \
            got its response head, waits --settle seconds, reads VmRSS again and prints (after − before) / opened.
            """
    )

    @OptionGroup var subscribers: SubscriberOptions

    @Option(help: "The server process to measure (for nginx: its worker).")
    var pid: Int32

    func run() async throws {
        let server = ProcessProbe(pid: pid)
        let pool = SubscriberPool(endpoint: try StreamEndpoint(url: subscribers.url), threads: subscribers.clientThreads)
        let before = try server.residentKiB()
        let ramp = await pool.open(count: subscribers.connections, batch: subscribers.batch, timeout: subscribers.openTimeout)
        try await Task.sleep(for: .seconds(subscribers.settle))
        let after = try server.residentKiB()
        let result = IdleResult(
            connections: subscribers.connections, opened: ramp.opened, failed: ramp.failed, firstError: ramp.firstError,
            rampSeconds: ramp.seconds, serverRSSBeforeKiB: before, serverRSSAfterKiB: after,
            rssPerConnectionKiB: ramp.opened > 0 ? Double(after - before) / Double(ramp.opened) : 0,
            clientRSSKiB: (try? ProcessProbe.current.residentKiB()) ?? 0
        )
        await pool.shutdown()
        result.print()
    }
}
