/// Streams whose deliveries a measurement counts: the NIO pool (`SubscriberPool`) or the one-thread
/// epoll reader (`EpollReader`).
protocol DeliverySource: AnyObject, Sendable {
    /// Deliveries counted so far over all streams.
    func deliveryCount() async -> Int
    /// Everything counted over all streams (the epoll reader stops reading first).
    func totals() async -> DeliveryTotals
    /// Closes every stream.
    func shutdown() async
}

extension DeliverySource {
    /// Returns once `expected` deliveries arrived, or none arrived for `quiet` seconds.
    func waitForDeliveries(_ expected: Int, quiet: Double) async {
        var last = await deliveryCount()
        var quietSince = ContinuousClock.now
        while last < expected, ContinuousClock.now - quietSince < .seconds(quiet) {
            // Polled: deliveries are counted where they are read, without a signal per event.
            try? await Task.sleep(for: .milliseconds(50))
            let count = await deliveryCount()
            if count != last {
                last = count
                quietSince = ContinuousClock.now
            }
        }
    }
}
