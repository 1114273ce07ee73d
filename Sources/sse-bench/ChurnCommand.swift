import ArgumentParser
import Foundation
import NIOCore

/// `sse-bench churn`: new streams per second, each registered by the node (in Redis, on a cluster node)
/// before its `connected` event, and the time to that event.
struct ChurnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "churn",
        abstract: "Opens short-lived streams at a fixed rate (or as fast as --concurrency allows), each closed at its `connected` event.",
        discussion: """
            With --rate, connection i starts at start + i / rate, open loop; one due while --concurrency are \
            still waiting for `connected` is skipped and counted. Without --rate, --concurrency connections are \
            kept in progress (closed loop: as many per second as the node answers). Each connection sends \
            GET --url (with user=<prefix><i mod --users> added unless --users 0), waits for sse-fanout's \
            `connected` event, which the node sends after writing the stream's registration, and closes. \
            Reports connects per second, the time from the connect call to `connected` (p50 … max), failures, \
            and the server's CPU time. Each connection leaves a TIME_WAIT socket on this side unless \
            --close reset; --source-addresses spreads them over 127.0.0.2, 127.0.0.3, … so the ephemeral \
            ports of one address pair do not run out. With --jwt-secret or --jwt-key-file each connection \
            sends a token for its user instead of user= (minted before the run: --tokens, by default one per \
            connection of an open loop and 10,000 for a closed loop, used in turn), in the Authorization \
            header or, with --token-in query, as ?token=; the URL's channel= parameters are granted in it.
            """
    )

    @Option(help: "Stream URL, e.g. http://127.0.0.1:8080/events.")
    var url: String

    @Option(help: "New connections per second, open loop (default: closed loop, as fast as --concurrency allows).")
    var rate: Double?

    @Option(help: "Connections in progress at most.")
    var concurrency: Int = 200

    @Option(help: "Seconds of connecting.")
    var duration: Double = 10

    @Option(help: "Connection i is user <prefix><i mod users>; 0: anonymous streams.")
    var users: Int = 1000

    @Option(name: .customLong("user-prefix"), help: "User names' prefix (default: churn-<random>-).")
    var userPrefix: String?

    @Option(name: .customLong("source-addresses"), help: "Local addresses to connect from, 127.0.0.2 onwards, round robin (0: the system's choice). Only for a 127.x server address.")
    var sourceAddresses: Int = 8

    @Option(help: "How this side closes each connection after `connected`: fin (normal) or reset (no TIME_WAIT).")
    var close: ChurnCloseMode = .fin

    @Option(name: .customLong("connect-timeout"), help: "Seconds a connection may take to `connected`.")
    var connectTimeout: Int = 10

    @Option(name: .customLong("client-threads"), help: "Event loops of this tool.")
    var clientThreads: Int = 1

    @OptionGroup var auth: TokenOptions
    @OptionGroup var servers: ServerOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        let endpoint = try HTTPEndpoint(url: url)
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard concurrency > 0 else { throw ValidationError("--concurrency must be positive") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard users >= 0 else { throw ValidationError("--users must be 0 or more") }
        guard (0...250).contains(sourceAddresses) else { throw ValidationError("--source-addresses must be 0…250") }
        if sourceAddresses > 0, endpoint.address.ipAddress?.hasPrefix("127.") != true {
            throw ValidationError("--source-addresses needs a server on 127.0.0.0/8; give --source-addresses 0")
        }
        guard connectTimeout > 0 else { throw ValidationError("--connect-timeout must be positive") }
        guard clientThreads > 0 else { throw ValidationError("--client-threads must be positive") }
        if auth.enabled, users == 0 { throw ValidationError("a token names its user: give --users 1 or more with --jwt-secret or --jwt-key-file") }
    }

    func run() async throws {
        let meter = servers.meter()
        let prefix = userPrefix ?? "churn-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))-"
        var endpoint = try StreamEndpoint(url: url, userPrefix: users > 0 ? prefix : nil)
        // Before the window: minting is not part of what is measured.
        let users = users
        let tokens = try await auth.mint(
            defaultCount: rate.map { Int(($0 * duration).rounded()) } ?? 10_000, channels: endpoint.channels,
            user: { [endpoint] in endpoint.user(index: $0 % users)! }
        )
        endpoint = endpoint.with(tokens)
        let sources = try (0..<sourceAddresses).map { try SocketAddress(ipAddress: "127.0.0.\($0 + 2)", port: 0) }
        let connector = ChurnConnector(
            endpoint: endpoint, threads: clientThreads, sources: sources, closeMode: close, timeout: .seconds(Int64(connectTimeout))
        )
        let gate = InFlightGate()
        let counters = LiveCounters()
        let progress = ProgressReporter(enabled: output.progress) {
            let now = counters.values
            return "started \(now.connecting)  connected \(now.connected)  failed \(now.connectFailed)  skipped \(now.skipped)  in progress \(gate.count)"
        }

        let window = try MeasurementWindow(meter: meter)
        let driven = await drive(connector: connector, gate: gate, counters: counters, start: window.start)
        await gate.waitUntil(below: 1)
        let usage = try window.finish()
        progress.stop()
        let totals = await connector.totals()
        await connector.shutdown()

        let servers = ProcessUsageTotals(usage.processes)
        let started = window.start.uptimeNanoseconds
        let connectSeconds = totals.lastConnectedAt > started ? Double(totals.lastConnectedAt - started) / 1e9 : 0
        try output.emit(ChurnResult(
            rate: rate, concurrency: concurrency, durationSeconds: duration, users: users, sourceAddresses: sourceAddresses,
            close: close, attempted: driven.attempted, connected: totals.connected, failed: totals.failed,
            skipped: driven.skipped, firstError: totals.firstError, maximumStartLagSeconds: driven.maximumStartLag,
            connectsPerSecond: connectSeconds > 0 ? Double(totals.connected) / connectSeconds : 0,
            latencyMilliseconds: LatencySummary(totals.timeToConnected),
            processes: usage.processes, serverCPU: servers.cpu, serverRSSKiB: servers.rssKiB,
            connectsPerServerCPUSecond: servers.cpu.total > 0 ? Double(totals.connected) / servers.cpu.total : 0,
            clientCPU: usage.clientCPU, otherCPUSeconds: usage.otherCPUSeconds, windowSeconds: usage.seconds,
            tokens: tokens?.summary
        ))
    }

    /// Starts the connections: open loop at `rate`, or closed loop with `concurrency` in progress, until
    /// the duration is over. Returns once the last one started (not ended).
    private func drive(connector: ChurnConnector, gate: InFlightGate, counters: LiveCounters, start: NIODeadline) async
        -> (attempted: Int, skipped: Int, maximumStartLag: Double)
    {
        var attempted = 0
        var skipped = 0
        let users = users
        func launch(_ index: Int) {
            gate.enter()
            counters.update { $0.connecting += 1 }
            connector.connect(index: index, user: users > 0 ? index % users : nil).whenSuccess { connected in
                counters.update { connected ? ($0.connected += 1) : ($0.connectFailed += 1) }
                gate.leave()
            }
        }
        guard let rate else {
            let end = start + .nanoseconds(Int64(duration * 1e9))
            while NIODeadline.now() < end {
                await gate.waitUntil(below: concurrency)
                launch(attempted)
                attempted += 1
            }
            return (attempted, skipped, 0)
        }
        var schedule = OpenLoopSchedule(rate: rate, count: Int((rate * duration).rounded()), start: start)
        while case let due = await schedule.due(), !due.isEmpty {
            for index in due {
                if gate.count >= concurrency {
                    skipped += 1
                    counters.update { $0.skipped += 1 }
                } else {
                    launch(index)
                }
                attempted += 1
            }
        }
        return (attempted, skipped, schedule.maximumLag)
    }
}
