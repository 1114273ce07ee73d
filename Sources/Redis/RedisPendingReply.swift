import Synchronization

/// A command already queued on a `RedisClient`, returned by `enqueue`. Await `value` for its reply,
/// or drop it to fire and forget: the command runs either way.
public struct RedisPendingReply: Sendable {
    private let box: Box

    init() {
        box = Box()
    }

    /// The reply, once the command has run. An error reply throws `RedisError.server`.
    public var value: RedisValue {
        get async throws {
            try await box.wait().get()
        }
    }

    /// Called once, from the worker thread, when the command has run.
    func fulfil(_ result: Result<RedisValue, RedisError>) {
        box.fulfil(result)
    }

    /// Holds the result until it is awaited; several tasks may await the same reply.
    private final class Box: Sendable {
        private enum State {
            case pending([CheckedContinuation<Result<RedisValue, RedisError>, Never>])
            case done(Result<RedisValue, RedisError>)
        }

        private let state = Mutex(State.pending([]))

        func fulfil(_ result: Result<RedisValue, RedisError>) {
            let waiters = state.withLock { state -> [CheckedContinuation<Result<RedisValue, RedisError>, Never>] in
                guard case .pending(let waiters) = state else { return [] }
                state = .done(result)
                return waiters
            }
            for waiter in waiters { waiter.resume(returning: result) }
        }

        func wait() async -> Result<RedisValue, RedisError> {
            await withCheckedContinuation { continuation in
                let result = state.withLock { state -> Result<RedisValue, RedisError>? in
                    switch state {
                    case .done(let result):
                        return result
                    case .pending(var waiters):
                        waiters.append(continuation)
                        state = .pending(waiters)
                        return nil
                    }
                }
                // Resumed outside the lock: resuming may run code that touches this box again.
                if let result { continuation.resume(returning: result) }
            }
        }
    }
}
