import Synchronization

/// A message already handed to an `AMQPPublisher` by `submit`. Await `outcome` for the broker's
/// confirm (several tasks may), or drop it: the message goes out either way.
public final class AMQPPendingPublish: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Result<AMQPPublishOutcome, AMQPError>, Never>])
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

    func complete(_ result: Result<AMQPPublishOutcome, AMQPError>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Result<AMQPPublishOutcome, AMQPError>, Never>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(result)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }

    private func result() async -> Result<AMQPPublishOutcome, AMQPError> {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Result<AMQPPublishOutcome, AMQPError>? in
                switch state {
                case .done(let result):
                    return result
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                }
            }
            // Resumed outside the lock: the resumed task may touch this object again.
            if let done { continuation.resume(returning: done) }
        }
    }
}
