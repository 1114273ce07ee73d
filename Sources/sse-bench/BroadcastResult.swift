import Foundation

/// The broadcast scenario's figures.
struct BroadcastResult: Codable {
    var scenario = "broadcast"
    var connections: Int
    var opened: Int
    var rate: Double
    var durationSeconds: Double
    var payloadBytes: Int
    var published: Int
    var publishFailed: Int
    var publishFirstError: String?
    var publishMaximumStartLagSeconds: Double
    var expected: Int
    var deliveries: Int
    /// expected − deliveries.
    var lost: Int
    var outOfOrder: Int
    var streamsClosed: Int
    /// The server's CPU time from just before the first publish to the last delivery.
    var serverCPU: CPUTime
    var deliveriesPerServerCPUSecond: Double
    /// This tool's CPU time over the same window (the subscribers and the publisher).
    var clientCPU: CPUTime
    /// CPU time the rest of the machine used over the same window (other processes, the kernel's own
    /// threads): a measurement with much of it was disturbed.
    var otherCPUSeconds: Double
    /// From the first publish to the end of the wait for the last deliveries.
    var windowSeconds: Double
    var latencyMilliseconds: LatencySummary
    var serverRSSKiB: Int

    func print() {
        Swift.print("""
            broadcast: \(opened) of \(connections) streams, \(published) published (\(publishFailed) failed\
            \(publishFirstError.map { ": \($0)" } ?? "")) at \(rate)/s, \(payloadBytes)-byte payloads
              deliveries   \(deliveries) of \(expected) expected, lost \(lost), out of order \(outOfOrder), \
            streams closed by the server \(streamsClosed)
              server CPU   \(Self.format(serverCPU)) over \(String(format: "%.1f", windowSeconds)) s: \
            \(String(format: "%.0f", deliveriesPerServerCPUSecond)) deliveries per CPU-second
              client CPU   \(Self.format(clientCPU))
              other CPU    \(String(format: "%.2f", otherCPUSeconds)) s (the rest of the machine)
              latency      p50 \(String(format: "%.2f", latencyMilliseconds.p50)) ms, \
            p99 \(String(format: "%.2f", latencyMilliseconds.p99)) ms, max \(String(format: "%.2f", latencyMilliseconds.max)) ms
              server RSS   \(serverRSSKiB) KiB
            """)
        ResultLine.print(self)
    }

    private static func format(_ time: CPUTime) -> String {
        String(format: "%.2f s (user %.2f, system %.2f)", time.total, time.user, time.system)
    }
}
