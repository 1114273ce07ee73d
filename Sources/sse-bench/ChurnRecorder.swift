import NIOCore

/// The churn connections of one event loop: touched only on that loop, so recording takes no lock.
final class ChurnRecorder: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var totals = ChurnTotals()

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func recordConnected(startedAt: UInt64, at now: UInt64) {
        eventLoop.preconditionInEventLoop()
        totals.connected += 1
        totals.timeToConnected.record(nanoseconds: now - startedAt)
        totals.lastConnectedAt = now
    }

    func recordFailure(_ error: any Error) {
        eventLoop.preconditionInEventLoop()
        totals.failed += 1
        if totals.firstError == nil { totals.firstError = "\(error)" }
    }

    var snapshot: ChurnTotals {
        eventLoop.preconditionInEventLoop()
        return totals
    }
}
