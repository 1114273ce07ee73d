/// One bar group of a chart: the medians of every record with the same name (repeated runs).
struct ChartSeries {
    var name: String
    var scenario: String
    /// p50, p99, p99.9, max; p99.9 is nil for results from before sse-bench measured it.
    var latency: [Double?]?
    var deliveriesPerServerCPUSecond: Double?
    var deliveriesPerSecond: Double?
    var connectsPerServerCPUSecond: Double?
    var connectsPerSecond: Double?
    var rssPerConnectionKiB: Double?

    static let latencyNames = ["p50", "p99", "p99.9", "max"]

    /// Groups `records` by name: measurements in the order they first appear, the servers of each in
    /// alphabetical order. Servers are named only when there are several.
    static func group(_ records: [ChartRecord]) -> [ChartSeries] {
        let withServer = Set(records.compactMap(\.server)).count > 1
        var measurements: [String] = []
        var byName: [String: [ChartRecord]] = [:]
        var measurementOf: [String: String] = [:]
        for record in records {
            let measurement = record.tag ?? record.label ?? record.scenario
            if !measurements.contains(measurement) { measurements.append(measurement) }
            let name = record.seriesName(withServer: withServer)
            measurementOf[name] = measurement
            byName[name, default: []].append(record)
        }
        let order = byName.keys.sorted { left, right in
            let (a, b) = (measurements.firstIndex(of: measurementOf[left]!)!, measurements.firstIndex(of: measurementOf[right]!)!)
            return a != b ? a < b : left < right
        }
        return order.map { name in
            let runs = byName[name]!
            let latencies = runs.compactMap(\.latencyMilliseconds)
            return ChartSeries(
                name: name,
                scenario: runs[0].scenario,
                latency: latencies.isEmpty ? nil : [
                    middle(latencies.map(\.p50)), middle(latencies.map(\.p99)),
                    median(latencies.compactMap(\.p999)), middle(latencies.map(\.max)),
                ],
                deliveriesPerServerCPUSecond: median(runs.compactMap(\.deliveriesPerServerCPUSecond)),
                deliveriesPerSecond: median(runs.compactMap(\.deliveriesPerSecond)),
                connectsPerServerCPUSecond: median(runs.compactMap(\.connectsPerServerCPUSecond)),
                connectsPerSecond: median(runs.compactMap(\.connectsPerSecond)),
                rssPerConnectionKiB: median(runs.compactMap(\.rssPerConnectionKiB))
            )
        }
    }

    private static func middle(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private static func median(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : middle(values)
    }
}
