/// Percentiles of end-to-end latencies (publish to receipt), in milliseconds.
struct LatencySummary: Sendable, Encodable {
    var count: Int
    var p50: Double
    var p99: Double
    var max: Double

    /// nil when there are no samples.
    init?(microseconds samples: [Int64]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func percentile(_ fraction: Double) -> Double {
            let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
            return Double(sorted[Swift.max(0, index)]) / 1000
        }
        count = sorted.count
        p50 = percentile(0.5)
        p99 = percentile(0.99)
        max = Double(sorted[sorted.count - 1]) / 1000
    }
}
