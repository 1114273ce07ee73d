import NIOCore

/// The measured part of broadcast and unicast: publishes open loop, waits for the deliveries, and reads
/// the processes' CPU time over that window.
struct DeliveryMeasurement {
    let pool: any DeliverySource
    let publisher: OpenLoopPublisher
    let transportDescription: String
    /// Deliveries each accepted publish should make (streams for a broadcast, 1 for unicast).
    let deliveriesPerPublish: Int
    /// Seconds without a new delivery after which the wait for the last deliveries ends.
    let drain: Double
    /// The limits the load tool is held to (`ClientHeadroom`).
    var maximumClientShare: Double = ClientLimits.defaultCoreShare
    var maximumStartLag: Double = ClientLimits.defaultStartLag
    /// The reading thread's CPU seconds so far, when it has one of its own (the epoll reader).
    var readerCPUSeconds: (@Sendable () -> Double)?

    func run(meter: ProcessUsageMeter) async throws -> DeliveryFigures {
        let window = try MeasurementWindow(meter: meter)
        let readerBefore = readerCPUSeconds?()
        let outcome = await publisher.run()
        let expected = deliveriesPerPublish * outcome.accepted
        await pool.waitForDeliveries(expected, quiet: drain)
        let usage = try window.finish()
        let readerSeconds = readerBefore.flatMap { before in readerCPUSeconds.map { $0() - before } }
        let servers = ProcessUsageTotals(usage.processes)
        let totals = await pool.totals()
        let deliverySeconds = totals.lastDeliveryAt > outcome.startedAt ? Double(totals.lastDeliveryAt - outcome.startedAt) / 1e9 : 0
        let busySeconds = max(deliverySeconds, 0.001)
        let client = ClientHeadroom(
            microsecondsPerDelivery: totals.deliveries > 0 ? usage.clientCPU.total / Double(totals.deliveries) * 1e6 : 0,
            coreShare: usage.clientCPU.total / busySeconds,
            readerCoreShare: readerSeconds.map { $0 / busySeconds },
            maximumStartLagSeconds: outcome.maximumStartLag,
            maximumCoreShare: maximumClientShare, maximumStartLagAllowed: maximumStartLag
        )
        let reasons = client.reasons
        return DeliveryFigures(
            publishVia: transportDescription,
            published: outcome.accepted, publishAttempted: outcome.attempted, publishFailed: outcome.failed,
            publishSkipped: outcome.skipped, publishFirstError: outcome.firstError,
            publishMaximumStartLagSeconds: outcome.maximumStartLag,
            expected: expected, deliveries: totals.deliveries, lost: expected - totals.deliveries,
            outOfOrder: totals.outOfOrder, streamsClosed: totals.streamsClosed,
            processes: usage.processes, serverCPU: servers.cpu, serverRSSKiB: servers.rssKiB,
            deliveriesPerServerCPUSecond: servers.cpu.total > 0 ? Double(totals.deliveries) / servers.cpu.total : 0,
            deliveriesPerSecond: deliverySeconds > 0 ? Double(totals.deliveries) / deliverySeconds : 0,
            clientCPU: usage.clientCPU, otherCPUSeconds: usage.otherCPUSeconds, windowSeconds: usage.seconds,
            latencyMilliseconds: LatencySummary(totals.latencies),
            client: client, valid: reasons.isEmpty, invalidReasons: reasons,
            halfSerialWriteMilliseconds: outcome.accepted > 0 ? servers.cpu.total / Double(outcome.accepted) * 1000 / 2 : 0
        )
    }
}
