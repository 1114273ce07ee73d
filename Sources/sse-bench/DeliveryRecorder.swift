import NIOCore

/// What the streams of one event loop received. Touched only on `eventLoop`, so recording takes no lock;
/// `totals()` collects every loop's recorder on its own loop.
final class DeliveryRecorder: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var deliveries = 0
    private var outOfOrder = 0
    private var streamsClosed = 0
    /// Receive time minus send time of every delivery, in nanoseconds.
    private var latencies: [UInt64] = []

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func recordDelivery(latency: UInt64, inOrder: Bool) {
        eventLoop.preconditionInEventLoop()
        deliveries += 1
        if !inOrder { outOfOrder += 1 }
        latencies.append(latency)
    }

    /// A stream that had opened was closed by the server or the network.
    func recordStreamClosed() {
        streamsClosed += 1
    }

    var totals: DeliveryTotals {
        eventLoop.preconditionInEventLoop()
        return DeliveryTotals(deliveries: deliveries, outOfOrder: outOfOrder, streamsClosed: streamsClosed, latencies: latencies)
    }

    var deliveryCount: Int {
        eventLoop.preconditionInEventLoop()
        return deliveries
    }
}
