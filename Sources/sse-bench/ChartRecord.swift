/// The figures a chart reads from one result (an sse-bench `RESULT`, or a line of a script's
/// results.jsonl, which adds `server`, `tag` and `run`). Everything else in the result is ignored.
struct ChartRecord: Decodable {
    struct Latency: Decodable {
        var p50: Double
        var p99: Double
        var p999: Double?
        var max: Double
    }

    var scenario: String
    var label: String?
    var server: String?
    var tag: String?
    var latencyMilliseconds: Latency?
    var deliveriesPerServerCPUSecond: Double?
    var deliveriesPerSecond: Double?
    var connectsPerServerCPUSecond: Double?
    var connectsPerSecond: Double?
    var rssPerConnectionKiB: Double?
    var otherCPUSeconds: Double?
    /// False when the load tool lacked headroom (`ClientHeadroom`): such a result is never drawn.
    var valid: Bool?

    /// The bar's name: the measurement (tag, else label, else scenario), then what ran (server) when the
    /// chart compares servers and it differs.
    func seriesName(withServer: Bool) -> String {
        let measurement = tag ?? label ?? scenario
        let who = withServer ? server : (tag != nil && label != tag ? label : nil)
        return who.map { $0 == measurement ? measurement : "\(measurement) · \($0)" } ?? measurement
    }
}
