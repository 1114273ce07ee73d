/// Whether the load tool had room to spare during a measurement, so that the server, not the tool, set
/// the pace. A reader that is short of CPU reads late: socket buffers fill, the server sees fewer and
/// bigger writes, and latency and CPU figures describe the tool. Such a result is marked invalid
/// (`DeliveryFigures.valid`) and left out of medians and charts.
struct ClientHeadroom: Codable, Sendable {
    /// The tool's CPU time (all threads) per delivery, in microseconds.
    var microsecondsPerDelivery: Double
    /// The tool's CPU time over the time deliveries took (first publish to last delivery), in cores.
    var coreShare: Double
    /// The reading thread's share of a core over that time (the epoll reader only).
    var readerCoreShare: Double?
    /// The most a publish started after it was due.
    var maximumStartLagSeconds: Double
    /// The limits it was held to.
    var maximumCoreShare: Double
    var maximumStartLagAllowed: Double

    var reasons: [String] {
        var reasons: [String] = []
        if coreShare > maximumCoreShare {
            reasons.append("the load tool used \(percent(coreShare)) of a core (at most \(percent(maximumCoreShare)))")
        }
        if let readerCoreShare, readerCoreShare > maximumCoreShare {
            reasons.append("the reading thread used \(percent(readerCoreShare)) of a core (at most \(percent(maximumCoreShare)))")
        }
        if maximumStartLagSeconds > maximumStartLagAllowed {
            reasons.append("publishes started up to \(Int(maximumStartLagSeconds * 1000)) ms late (at most \(Int(maximumStartLagAllowed * 1000)))")
        }
        return reasons
    }

    private func percent(_ share: Double) -> String { "\(Int((share * 100).rounded())) %" }

    var text: String {
        var text = String(format: "%.2f µs per delivery, %.0f %% of a core", microsecondsPerDelivery, coreShare * 100)
        if let readerCoreShare { text += String(format: " (reading thread %.0f %%)", readerCoreShare * 100) }
        return text + String(format: "; publishes at most %.1f ms late", maximumStartLagSeconds * 1000)
    }
}
