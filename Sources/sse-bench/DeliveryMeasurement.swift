import NIOCore

/// The measured part of broadcast and unicast: publishes open loop, waits for the deliveries, and reads
/// the processes' CPU time over that window.
struct DeliveryMeasurement {
    let pool: SubscriberPool
    let publisher: OpenLoopPublisher
    let transportDescription: String
    /// Deliveries each accepted publish should make (streams for a broadcast, 1 for unicast).
    let deliveriesPerPublish: Int
    /// Seconds without a new delivery after which the wait for the last deliveries ends.
    let drain: Double

    func run(meter: ProcessUsageMeter) async throws -> DeliveryFigures {
        let window = try MeasurementWindow(meter: meter)
        let outcome = await publisher.run()
        let expected = deliveriesPerPublish * outcome.accepted
        await pool.waitForDeliveries(expected, quiet: drain)
        let usage = try window.finish()
        let servers = ProcessUsageTotals(usage.processes)
        let totals = await pool.totals()
        let deliverySeconds = totals.lastDeliveryAt > outcome.startedAt ? Double(totals.lastDeliveryAt - outcome.startedAt) / 1e9 : 0
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
            latencyMilliseconds: LatencySummary(totals.latencies)
        )
    }
}
