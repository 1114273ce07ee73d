import NIOCore

/// What the streams of one event loop received. Touched only on `eventLoop`, so recording takes no lock;
/// `totals()` collects every loop's recorder on its own loop.
final class DeliveryRecorder: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var totals = DeliveryTotals()

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// `receivedAt` and `latency` are in nanoseconds of `NIODeadline`'s clock.
    func recordDelivery(receivedAt: UInt64, latency: UInt64, inOrder: Bool) {
        eventLoop.preconditionInEventLoop()
        totals.deliveries += 1
        if !inOrder { totals.outOfOrder += 1 }
        totals.latencies.record(nanoseconds: latency)
        totals.lastDeliveryAt = receivedAt
    }

    /// A stream that had opened was closed by the server or the network.
    func recordStreamClosed() {
        totals.streamsClosed += 1
    }

    var snapshot: DeliveryTotals {
        eventLoop.preconditionInEventLoop()
        return totals
    }

    var deliveryCount: Int {
        eventLoop.preconditionInEventLoop()
        return totals.deliveries
    }
}
