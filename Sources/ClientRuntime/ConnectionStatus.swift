import NIOConcurrencyHelpers

/// Whether a client's connection is up, and if not, why: written by the thread that owns the
/// connection, read from anywhere (a readiness probe); `waitUntilConnected` lets callers await it.
public final class ConnectionStatus: Sendable {
    private struct State {
        var isConnected = false
        var lastError: String?
        /// How many connections have been established so far: a reconnect raises it.
        var established: UInt64 = 0
        /// Each waiter with the `established` count it waits to see exceeded.
        var waiters: [UInt64: (after: UInt64, continuation: CheckedContinuation<Void, any Error>)] = [:]
        /// Waiters that have an id but have not registered their continuation yet.
        var unregisteredWaiters: Set<UInt64> = []
        /// Waiters that timed out or were cancelled before they could register.
        var abandonedWaiters: [UInt64: any Error] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private let state: NIOLockedValueBox<State>
    /// The client's own error for a wait that timed out, made from the reason it is not connected.
    private let notConnected: @Sendable (String) -> any Error

    /// `initialReason` is `lastError` before the first attempt; `notConnected` makes the client's own
    /// error (`AMQPError.notConnected`, `RedisError.notConnected`) for `waitUntilConnected` to throw.
    public init(initialReason: String, notConnected: @escaping @Sendable (String) -> any Error) {
        state = NIOLockedValueBox(State(lastError: initialReason))
        self.notConnected = notConnected
    }

    public var isConnected: Bool {
        state.withLockedValue { $0.isConnected }
    }

    /// How many connections have been established so far (a reconnect raises it by one).
    public var established: UInt64 {
        state.withLockedValue { $0.established }
    }

    /// Why it is not connected; nil while connected.
    public var lastError: String? {
        state.withLockedValue { $0.isConnected ? nil : $0.lastError }
    }

    /// `newConnection` is false when the same connection becomes usable again (the server unblocked it).
    public func markConnected(newConnection: Bool = true) {
        let ready = state.withLockedValue { state in
            state.isConnected = true
            state.lastError = nil
            if newConnection { state.established += 1 }
            let ready = state.waiters.filter { $0.value.after < state.established }
            for id in ready.keys { state.waiters.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
        for waiter in ready { waiter.resume() }
    }

    public func markDisconnected(reason: String) {
        state.withLockedValue { state in
            state.isConnected = false
            state.lastError = reason
        }
    }

    /// Returns once connected on a connection established after the first `after` ones (0: any);
    /// after `timeout`, throws the client's not-connected error with the last reason.
    public func waitUntilConnected(timeout: Duration, establishedAfter after: UInt64 = 0) async throws {
        let id = state.withLockedValue { state in
            defer { state.nextWaiterID += 1 }
            state.unregisteredWaiters.insert(state.nextWaiterID)
            return state.nextWaiterID
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.abandonWaiter(id, with: self.notConnected(self.lastError ?? "not connected within \(timeout)"))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediateResult: Result<Void, any Error>? = state.withLockedValue { state in
                    state.unregisteredWaiters.remove(id)
                    if state.isConnected && state.established > after { return .success(()) }
                    if let error = state.abandonedWaiters.removeValue(forKey: id) { return .failure(error) }
                    state.waiters[id] = (after, continuation)
                    return nil
                }
                if let immediateResult { continuation.resume(with: immediateResult) }
            }
        } onCancel: {
            abandonWaiter(id, with: CancellationError())
        }
    }

    private func abandonWaiter(_ id: UInt64, with error: any Error) {
        let waiter = state.withLockedValue { state in
            if state.unregisteredWaiters.contains(id) {
                state.abandonedWaiters[id] = error
            }
            return state.waiters.removeValue(forKey: id)?.continuation
        }
        waiter?.resume(throwing: error)
    }
}
