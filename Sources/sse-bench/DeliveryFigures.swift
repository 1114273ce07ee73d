import Foundation

/// What a publish-and-deliver measurement found (broadcast, unicast), encoded flat into its result
/// with the names scripts read (summarize.py).
struct DeliveryFigures: Encodable {
    var publishVia: String
    /// Publishes accepted (2xx or confirmed).
    var published: Int
    var publishAttempted: Int
    var publishFailed: Int
    var publishSkipped: Int
    var publishFirstError: String?
    var publishMaximumStartLagSeconds: Double
    /// Deliveries that accepted publishes should have made.
    var expected: Int
    var deliveries: Int
    /// expected − deliveries (negative when a publish that failed at the client was still delivered).
    var lost: Int
    var outOfOrder: Int
    var streamsClosed: Int
    /// Every measured process over the window: servers (summed below) and services.
    var processes: [ProcessUsage]
    /// The servers' CPU time from just before the first publish to the last delivery.
    var serverCPU: CPUTime
    var serverRSSKiB: Int
    var deliveriesPerServerCPUSecond: Double
    /// Deliveries over the time from the first publish to the last delivery.
    var deliveriesPerSecond: Double
    /// This tool's CPU time over the same window (the subscribers and the publisher).
    var clientCPU: CPUTime
    /// CPU time the rest of the machine used over the same window (other processes, the kernel's own
    /// threads): a measurement with much of it was disturbed.
    var otherCPUSeconds: Double
    /// From the first publish to the end of the wait for the last deliveries.
    var windowSeconds: Double
    /// From the send of a publish to the read of its event.
    var latencyMilliseconds: LatencySummary
    /// What the tool itself spent, and whether that left it room to spare.
    var client: ClientHeadroom
    /// False when the tool may have set the pace (`invalidReasons` says why): such a result is not charted.
    var valid: Bool
    var invalidReasons: [String]
    /// Half the server's CPU time per accepted publish, in milliseconds: for a broadcast written to each
    /// stream one after the other, with nothing waiting, the median delivery should come about this long
    /// after the publish (a first-principles check of the latency figures).
    var halfSerialWriteMilliseconds: Double

    /// Rows for a result's table.
    func addRows(to table: inout TextTable) {
        table.add("publish", "\(publishVia)")
        table.add("published", "\(published) accepted of \(publishAttempted) due (\(publishFailed) failed, \(publishSkipped) skipped)"
            + (publishFirstError.map { "; first error: \($0)" } ?? ""))
        table.add("deliveries", "\(deliveries) of \(expected) expected, lost \(lost), out of order \(outOfOrder), streams closed by the server \(streamsClosed)")
        table.add("deliveries/s", String(format: "%.0f", deliveriesPerSecond))
        table.add("latency", latencyMilliseconds.text)
        table.add("server CPU", serverCPU.text + String(format: " over %.1f s: %.0f deliveries per CPU-second", windowSeconds, deliveriesPerServerCPUSecond))
        for process in processes {
            table.add(process.tableCells)
        }
        table.add("client CPU", clientCPU.text + "; " + client.text)
        table.add("valid", valid ? "yes: the load tool had room to spare" : "NO: " + invalidReasons.joined(separator: "; "))
        table.add("check", String(format: "half the server's CPU time per publish %.1f ms; p50 %.1f ms", halfSerialWriteMilliseconds, latencyMilliseconds.p50))
        table.add("other CPU", String(format: "%.2f s (the rest of the machine)", otherCPUSeconds))
        table.add("start lag", String(format: "%.1f ms at most (publishes sent after they were due)", publishMaximumStartLagSeconds * 1000))
    }

}
