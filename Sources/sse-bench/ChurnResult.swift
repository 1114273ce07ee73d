import Foundation

/// The churn scenario's figures.
struct ChurnResult: BenchResult {
    var scenario = "churn"
    /// Connections per second asked for (nil: closed loop).
    var rate: Double?
    var concurrency: Int
    var durationSeconds: Double
    var users: Int
    var sourceAddresses: Int
    var close: ChurnCloseMode
    var attempted: Int
    /// Connections that got their `connected` event.
    var connected: Int
    var failed: Int
    /// Due while --concurrency were in progress, so not started (the node is behind).
    var skipped: Int
    var firstError: String?
    var maximumStartLagSeconds: Double
    /// Connected over the time from the first connect to the last `connected`.
    var connectsPerSecond: Double
    /// From the connect call to the end of the `connected` event.
    var latencyMilliseconds: LatencySummary
    var processes: [ProcessUsage]
    var serverCPU: CPUTime
    var serverRSSKiB: Int
    var connectsPerServerCPUSecond: Double
    var clientCPU: CPUTime
    var otherCPUSeconds: Double
    /// From the first connect until every connection ended.
    var windowSeconds: Double
    /// The tokens the connections sent (nil: none).
    var tokens: TokenSummary?

    var table: String {
        var table = TextTable(title: "churn")
        table.add("mode", rate.map { "open loop, \($0) connections/s for \(durationSeconds) s, at most \(concurrency) in progress" }
            ?? "closed loop, \(concurrency) in progress for \(durationSeconds) s")
        table.add("connections", "\(connected) connected of \(attempted) started (\(failed) failed, \(skipped) skipped)"
            + (firstError.map { "; first error: \($0)" } ?? ""))
        table.add("connects/s", String(format: "%.0f", connectsPerSecond))
        table.add("to connected", latencyMilliseconds.text)
        table.add("server CPU", serverCPU.text + String(format: " over %.1f s: %.0f connects per CPU-second", windowSeconds, connectsPerServerCPUSecond))
        for process in processes {
            table.add(process.tableCells)
        }
        table.add("client CPU", clientCPU.text)
        table.add("other CPU", String(format: "%.2f s (the rest of the machine)", otherCPUSeconds))
        table.add("tokens", tokens?.text ?? "none")
        table.add("clients", "\(users) users, from \(sourceAddresses == 0 ? "the system's choice of address" : "\(sourceAddresses) source addresses"), closed with \(close.rawValue)")
        return table.text
    }
}
