import Synchronization

/// Whether a connection's owning thread is currently connected, and if not, why.
/// Written by the owning thread, read from anywhere; `waitUntilConnected` lets callers await it.
final class ConnectionStatus: Sendable {
    private struct State {
        var isConnected = false
        var lastError: String? = "not started"
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

    private let state = Mutex(State())

    var isConnected: Bool {
        state.withLock { $0.isConnected }
    }

    /// How many connections have been established so far (a reconnect raises it by one).
    var established: UInt64 {
        state.withLock { $0.established }
    }

    /// Why it is not connected; nil while connected.
    var lastError: String? {
        state.withLock { $0.isConnected ? nil : $0.lastError }
    }

    /// `newConnection` is false when the same connection becomes usable again (the broker unblocked it).
    func markConnected(newConnection: Bool = true) {
        let ready = state.withLock { state in
            state.isConnected = true
            state.lastError = nil
            if newConnection { state.established += 1 }
            let ready = state.waiters.filter { $0.value.after < state.established }
            for id in ready.keys { state.waiters.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
        for waiter in ready { waiter.resume() }
    }

    func markDisconnected(reason: String) {
        state.withLock { state in
            state.isConnected = false
            state.lastError = reason
        }
    }

    /// Returns once connected on a connection established after the first `after` ones (0: any);
    /// throws `AMQPError.notConnected` with the last error after `timeout`.
    func waitUntilConnected(timeout: Duration, establishedAfter after: UInt64 = 0) async throws {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            state.unregisteredWaiters.insert(state.nextWaiterID)
            return state.nextWaiterID
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.abandonWaiter(id, with: AMQPError.notConnected(self.lastError ?? "not connected within \(timeout)"))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediateResult: Result<Void, any Error>? = state.withLock { state in
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
        let waiter = state.withLock { state in
            if state.unregisteredWaiters.contains(id) {
                state.abandonedWaiters[id] = error
            }
            return state.waiters.removeValue(forKey: id)?.continuation
        }
        waiter?.resume(throwing: error)
    }
}
