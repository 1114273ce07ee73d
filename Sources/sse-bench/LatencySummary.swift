/// Percentiles of a `LatencyHistogram`, in milliseconds: what results and charts report.
/// `p50`, `p99` and `max` keep the names scripts (summarize.py) read.
struct LatencySummary: Codable, Sendable {
    var count: Int
    var p50: Double
    var p99: Double
    /// The 99.9th percentile. Optional only so that results written before it existed still decode.
    var p999: Double?
    var max: Double
    var mean: Double?

    init(_ histogram: LatencyHistogram) {
        count = histogram.count
        p50 = histogram.milliseconds(atPercentile: 50)
        p99 = histogram.milliseconds(atPercentile: 99)
        p999 = histogram.milliseconds(atPercentile: 99.9)
        max = histogram.maximumMilliseconds
        mean = histogram.meanMilliseconds
    }

    /// `p50 0.81  p99 2.10  p99.9 3.20  max 4.10 ms (5000 samples)`.
    var text: String {
        let figures = [("p50", p50), ("p99", p99), ("p99.9", p999 ?? 0), ("max", max)]
        return figures.map { "\($0.0) \(Self.format($0.1))" }.joined(separator: "  ") + " ms (\(count) samples)"
    }

    static func format(_ milliseconds: Double) -> String {
        milliseconds >= 100 ? String(format: "%.0f", milliseconds) : String(format: "%.2f", milliseconds)
    }
}
