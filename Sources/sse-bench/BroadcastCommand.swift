import ArgumentParser
import NIOCore

/// `sse-bench broadcast`: deliveries per server CPU-second and latency of broadcasts to N streams.
struct BroadcastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "Opens N streams, publishes broadcasts open-loop and counts deliveries, server CPU and latency.",
        discussion: """
            After the streams are open, publishes --rate broadcasts per second for --duration seconds, each \
            a --size-byte payload starting with its sequence number and send time, on its own HTTP connection, \
            at fixed times (not waiting for answers). Then waits until every delivery arrived, or none did for \
            --drain seconds. The server's CPU time (utime + stime of /proc/<pid>/stat) is read before the first \
            publish and after that wait.
            """
    )

    @OptionGroup var subscribers: SubscriberOptions

    @Option(name: .customLong("publish-url"), help: "Where to POST: http://127.0.0.1:8080/publish, or nchan's http://127.0.0.1:18091/pub/bench.")
    var publishURL: String

    @Option(help: "Broadcasts per second.")
    var rate: Double = 10

    @Option(help: "Seconds of publishing.")
    var duration: Double = 20

    @Option(help: "Payload bytes per event (the event's data).")
    var size: Int = 64

    @Option(help: "Seconds without a new delivery after which the wait for the last deliveries ends.")
    var drain: Double = 3

    @Option(help: "The server process to measure (for nginx: its worker).")
    var pid: Int32

    @Flag(help: "The server is nginx+nchan: POST the raw payload instead of sse-fanout's publish JSON.")
    var nchan = false

    func validate() throws {
        guard rate > 0, duration > 0 else { throw ValidationError("--rate and --duration must be positive") }
        guard size >= 48 else { throw ValidationError("--size must be at least 48 bytes (sequence number and timestamp)") }
    }

    func run() async throws {
        let server = ProcessProbe(pid: pid)
        let client = ProcessProbe.current
        let pool = SubscriberPool(endpoint: try StreamEndpoint(url: subscribers.url), threads: subscribers.clientThreads)
        let ramp = await pool.open(count: subscribers.connections, batch: subscribers.batch, timeout: subscribers.openTimeout)
        try await Task.sleep(for: .seconds(subscribers.settle))

        let publisher = BroadcastPublisher(
            url: publishURL, format: nchan ? .nchan : .sseFanout, rate: rate, count: Int((rate * duration).rounded()), size: size
        )
        let serverCPUBefore = try server.cpuTime()
        let clientCPUBefore = try client.cpuTime()
        let machineBefore = try MachineProbe.busySeconds()
        let windowStart = NIODeadline.now()
        let published = await publisher.run()
        let expected = ramp.opened * published.accepted
        await waitForDeliveries(pool, expected: expected)
        let windowSeconds = Double((NIODeadline.now() - windowStart).nanoseconds) / 1e9
        let serverCPU = try server.cpuTime() - serverCPUBefore
        let clientCPU = try client.cpuTime() - clientCPUBefore
        let otherCPU = try MachineProbe.busySeconds() - machineBefore - serverCPU.total - clientCPU.total
        let serverRSS = try server.residentKiB()

        let totals = await pool.totals()
        await pool.shutdown()
        BroadcastResult(
            connections: subscribers.connections, opened: ramp.opened, rate: rate, durationSeconds: duration, payloadBytes: size,
            published: published.accepted, publishFailed: published.failed, publishFirstError: published.firstError,
            publishMaximumStartLagSeconds: published.maximumStartLag,
            expected: expected, deliveries: totals.deliveries, lost: expected - totals.deliveries,
            outOfOrder: totals.outOfOrder, streamsClosed: totals.streamsClosed,
            serverCPU: serverCPU,
            deliveriesPerServerCPUSecond: serverCPU.total > 0 ? Double(totals.deliveries) / serverCPU.total : 0,
            clientCPU: clientCPU, otherCPUSeconds: max(0, otherCPU), windowSeconds: windowSeconds,
            latencyMilliseconds: LatencySummary(nanoseconds: totals.latencies), serverRSSKiB: serverRSS
        ).print()
    }

    /// Returns once `expected` deliveries arrived, or none arrived for `drain` seconds.
    private func waitForDeliveries(_ pool: SubscriberPool, expected: Int) async {
        var last = await pool.deliveryCount()
        var quietSince = ContinuousClock.now
        while last < expected, ContinuousClock.now - quietSince < .seconds(drain) {
            try? await Task.sleep(for: .milliseconds(100))
            let count = await pool.deliveryCount()
            if count != last {
                last = count
                quietSince = ContinuousClock.now
            }
        }
    }
}
