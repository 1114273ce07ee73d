import NIOCore
import NIOConcurrencyHelpers

/// Hands parsed events from the channel handler (on the event loop) to the stream's single consumer task,
/// buffering without bound, and keeps the per-connection counters.
///
/// Not an `AsyncThrowingStream` continuation: cancelling a task waiting on such a stream ends the stream,
/// and `SSEStream.next(timeout:)` must be able to give up waiting while the stream carries on.
final class SSEEventInbox: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<SSEEvent?, any Error>
        let timeout: Scheduled<Void>?
    }

    private struct State {
        var events = CircularBuffer<SSEEvent>()
        /// Set when the connection is done; a failure is reported once, then the inbox reads as finished.
        var end: Result<Void, any Error>?
        var waiter: Waiter?
        var lastWaiterID: UInt64 = 0
        var commentCount = 0
        var eventCount = 0
        var reconnectionTime: Int?
    }

    private let state = NIOLockedValueBox(State())

    var commentCount: Int { state.withLockedValue { $0.commentCount } }
    var reconnectionTime: Int? { state.withLockedValue { $0.reconnectionTime } }
    var eventCount: Int { state.withLockedValue { $0.eventCount } }
    /// Whether a consumer is suspended in `next`; lets tests act only once it is.
    var isConsumerWaiting: Bool { state.withLockedValue { $0.waiter != nil } }

    /// Called by the producer with the events one chunk completed and the parser's comment count so far.
    func deliver(_ events: [SSEEvent], commentCount: Int, reconnectionTime: Int?) {
        let woken: Waiter? = state.withLockedValue { state in
            state.commentCount = commentCount
            state.reconnectionTime = reconnectionTime
            state.eventCount += events.count
            guard !events.isEmpty, state.end == nil else { return nil }
            var remaining = events[...]
            var woken: Waiter?
            if let waiter = state.waiter {
                state.waiter = nil
                woken = waiter
                remaining = remaining.dropFirst()
            }
            state.events.append(contentsOf: remaining)
            return woken
        }
        if let woken {
            woken.timeout?.cancel()
            woken.continuation.resume(returning: events[0])
        }
    }

    /// Marks the end of the stream; buffered events are still delivered before it. Later calls are ignored.
    func finish(throwing error: (any Error)? = nil) {
        let woken: (Waiter, Result<SSEEvent?, any Error>)? = state.withLockedValue { state in
            guard state.end == nil else { return nil }
            let end: Result<Void, any Error> = error.map { .failure($0) } ?? .success(())
            state.end = end
            guard let waiter = state.waiter, state.events.isEmpty else { return nil }
            state.waiter = nil
            state.end = .success(())
            return (waiter, end.map { nil })
        }
        if let (waiter, result) = woken {
            waiter.timeout?.cancel()
            waiter.continuation.resume(with: result)
        }
    }

    /// The next event, nil once the stream has ended. Throws `SSEClientError.timeout` when `timeout` passes
    /// (timed on `eventLoop`) or `CancellationError` when the task is cancelled; neither ends the stream.
    func next(timeout: Duration?, eventLoop: any EventLoop) async throws -> SSEEvent? {
        let id = state.withLockedValue { state in
            state.lastWaiterID += 1
            return state.lastWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Scheduled before the waiter is installed so whoever resumes the waiter can cancel it.
                let timer = timeout.map { timeout in
                    eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                        self.failWaiter(id: id, with: SSEClientError.timeout)
                    }
                }
                let immediate: Result<SSEEvent?, any Error>? = state.withLockedValue { state in
                    if let event = state.events.popFirst() { return .success(event) }
                    if let end = state.end {
                        state.end = .success(())
                        return end.map { nil }
                    }
                    // Checked under the lock: a cancellation handler that ran earlier found no waiter to fail.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    precondition(state.waiter == nil, "SSEStream supports one consumer at a time")
                    state.waiter = Waiter(id: id, continuation: continuation, timeout: timer)
                    return nil
                }
                if let immediate {
                    timer?.cancel()
                    continuation.resume(with: immediate)
                }
            }
        } onCancel: {
            failWaiter(id: id, with: CancellationError())
        }
    }

    private func failWaiter(id: UInt64, with error: any Error) {
        let waiter: Waiter? = state.withLockedValue { state in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter
        }
        if let waiter {
            waiter.timeout?.cancel()
            waiter.continuation.resume(throwing: error)
        }
    }
}
