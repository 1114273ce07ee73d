import RabbitMQ
import NIOConcurrencyHelpers

/// Collects a consumer's deliveries so a test can await them one by one with a bounded wait.
final class DeliveryInbox: Sendable {
    private struct State {
        var buffered: [AMQPDelivery] = []
        var waiter: (id: UInt64, continuation: CheckedContinuation<AMQPDelivery?, Never>)?
        var nextWaiterID: UInt64 = 0
        var receivedCount = 0
    }

    private let state = NIOLockedValueBox(State())

    /// The consumer's handler: called on the consumer's thread.
    func receive(_ delivery: AMQPDelivery) {
        let waiter = state.withLockedValue { state in
            state.receivedCount += 1
            guard let waiter = state.waiter else {
                state.buffered.append(delivery)
                return nil as CheckedContinuation<AMQPDelivery?, Never>?
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: delivery)
    }

    var receivedCount: Int {
        state.withLockedValue { $0.receivedCount }
    }

    /// The next delivery, or nil if none arrives within `timeout`. One waiter at a time.
    func next(within timeout: Duration = .seconds(10)) async -> AMQPDelivery? {
        let id = state.withLockedValue { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        var timer: Task<Void, Never>?
        let delivery = await withCheckedContinuation { (continuation: CheckedContinuation<AMQPDelivery?, Never>) in
            let buffered = state.withLockedValue { state in
                if !state.buffered.isEmpty { return state.buffered.removeFirst() as AMQPDelivery? }
                state.waiter = (id, continuation)
                return nil
            }
            if let buffered {
                continuation.resume(returning: buffered)
            } else {
                timer = Task { await self.expireWaiter(id, after: timeout) }
            }
        }
        timer?.cancel()
        return delivery
    }

    private func expireWaiter(_ id: UInt64, after timeout: Duration) async {
        guard (try? await Task.sleep(for: timeout)) != nil else { return }
        let waiter = state.withLockedValue { state in
            guard let waiter = state.waiter, waiter.id == id else { return nil as CheckedContinuation<AMQPDelivery?, Never>? }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: nil)
    }
}
