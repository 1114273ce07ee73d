import Histogram

/// Latencies in nanoseconds, kept as an HdrHistogram: 3 significant digits from 1 µs to 1 hour in a fixed
/// few hundred KiB, however many events are recorded. Each event loop keeps its own; they are merged at the end.
struct LatencyHistogram: Sendable {
    private static let lowest: UInt64 = 1_000
    private static let highest: UInt64 = 3_600_000_000_000

    private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: lowest, highestTrackableValue: highest, numberOfSignificantValueDigits: .three
    )

    var count: Int { Int(histogram.totalCount) }

    /// Values above an hour are recorded as an hour: they only mean "lost in a queue".
    mutating func record(nanoseconds: UInt64) {
        histogram.record(min(nanoseconds, Self.highest))
    }

    mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
    }

    /// The value at `percentile` (0–100), in milliseconds.
    func milliseconds(atPercentile percentile: Double) -> Double {
        count == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1e6
    }

    var maximumMilliseconds: Double { count == 0 ? 0 : Double(histogram.maxRecorded) / 1e6 }
    var meanMilliseconds: Double { histogram.mean / 1e6 }
}
