/// Deliveries counted at the clients, summed over event loops.
struct DeliveryTotals: Sendable {
    var deliveries = 0
    /// Deliveries whose sequence number was not above the previous one on the same stream.
    var outOfOrder = 0
    /// Streams that had opened and were then closed by the server (or the network).
    var streamsClosed = 0
    var latencies = LatencyHistogram()
    /// `NIODeadline.uptimeNanoseconds` of the last delivery (0: none yet).
    var lastDeliveryAt: UInt64 = 0

    mutating func add(_ other: DeliveryTotals) {
        deliveries += other.deliveries
        outOfOrder += other.outOfOrder
        streamsClosed += other.streamsClosed
        latencies.add(other.latencies)
        lastDeliveryAt = max(lastDeliveryAt, other.lastDeliveryAt)
    }
}
