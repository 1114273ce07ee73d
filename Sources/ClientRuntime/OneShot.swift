import NIOConcurrencyHelpers

/// A result that is set once and handed to everyone who asks for it, before or after: awaited by
/// several tasks, or passed to callbacks by callers that need no task to wait.
public final class OneShot<Value: Sendable, Failure: Error>: Sendable {
    public typealias Callback = @Sendable (Result<Value, Failure>) -> Void

    private enum State {
        case waiting([Callback])
        case done(Result<Value, Failure>)
    }

    private let state = NIOLockedValueBox(State.waiting([]))

    public init() {}

    /// Sets the result and calls every callback waiting for it, on this thread; only the first call
    /// counts. Returns whether this call set it.
    @discardableResult
    public func complete(_ result: Result<Value, Failure>) -> Bool {
        let waiters = state.withLockedValue { state -> [Callback]? in
            guard case .waiting(let waiters) = state else { return nil }
            state = .done(result)
            return waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter(result) }
        return true
    }

    /// Calls `callback` with the result once it is set: at once if it is, else on the thread that
    /// sets it (keep it short).
    public func whenComplete(_ callback: @escaping Callback) {
        let done = state.withLockedValue { state -> Result<Value, Failure>? in
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

    /// The result, once set.
    public var result: Result<Value, Failure> {
        get async {
            await withCheckedContinuation { continuation in
                whenComplete { continuation.resume(returning: $0) }
            }
        }
    }

    /// The value, once set; throws the failure.
    public var value: Value {
        get async throws(Failure) {
            try await result.get()
        }
    }
}
