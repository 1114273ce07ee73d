import Synchronization

/// A message already handed to an `AMQPPublisher` by `submit`. Await `outcome` for the broker's
/// confirm (several tasks may), or drop it: the message goes out either way.
public final class AMQPPendingPublish: Sendable {
    private typealias Waiter = @Sendable (Result<AMQPPublishOutcome, AMQPError>) -> Void

    private enum State {
        case waiting([Waiter])
        case done(Result<AMQPPublishOutcome, AMQPError>)
    }

    private let state = Mutex(State.waiting([]))

    init() {}

    /// `.confirmed`, or `.returned` for an unroutable mandatory message; throws as `publish` does.
    public var outcome: AMQPPublishOutcome {
        get async throws {
            try await result().get()
        }
    }

    /// Calls `callback` with the outcome once it is known: at once if it is, else on the publisher's
    /// thread (keep it short). For callers that need no task to wait.
    public func whenComplete(_ callback: @escaping @Sendable (Result<AMQPPublishOutcome, AMQPError>) -> Void) {
        let done = state.withLock { state -> Result<AMQPPublishOutcome, AMQPError>? in
            switch state {
            case .done(let result):
                return result
            case .waiting(var waiters):
                waiters.append(callback)
                state = .waiting(waiters)
                return nil
            }
        }
        // Called outside the lock: the callback may touch this object again.
        if let done { callback(done) }
    }

    func complete(_ result: Result<AMQPPublishOutcome, AMQPError>) {
        let waiters = state.withLock { state -> [Waiter] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(result)
            return waiters
        }
        for waiter in waiters { waiter(result) }
    }

    private func result() async -> Result<AMQPPublishOutcome, AMQPError> {
        await withCheckedContinuation { continuation in
            whenComplete { continuation.resume(returning: $0) }
        }
    }
}
