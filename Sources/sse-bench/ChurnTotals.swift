/// What the churn connections of one or all event loops came to.
struct ChurnTotals: Sendable {
    var connected = 0
    var failed = 0
    var firstError: String?
    /// From the connect call to the end of the `connected` event, of each connection that got one.
    var timeToConnected = LatencyHistogram()
    /// `NIODeadline.uptimeNanoseconds` of the last `connected` (0: none yet).
    var lastConnectedAt: UInt64 = 0

    mutating func add(_ other: ChurnTotals) {
        connected += other.connected
        failed += other.failed
        firstError = firstError ?? other.firstError
        timeToConnected.add(other.timeToConnected)
        lastConnectedAt = max(lastConnectedAt, other.lastConnectedAt)
    }
}
