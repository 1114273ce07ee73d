import Synchronization

/// Whether a connection's owning thread is currently connected, and if not, why.
/// Written by the owning thread, read from anywhere; `waitUntilConnected` lets callers await it.
final class ConnectionStatus: Sendable {
    private struct State {
        var isConnected = false
        var lastError: String? = "not started"
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
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

    /// Why it is not connected; nil while connected.
    var lastError: String? {
        state.withLock { $0.isConnected ? nil : $0.lastError }
    }

    func markConnected() {
        let waiters = state.withLock { state in
            state.isConnected = true
            state.lastError = nil
            defer { state.waiters.removeAll() }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    func markDisconnected(reason: String) {
        state.withLock { state in
            state.isConnected = false
            state.lastError = reason
        }
    }

    /// Returns once connected; throws `AMQPError.notConnected` with the last error after `timeout`.
    func waitUntilConnected(timeout: Duration) async throws {
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
                    if state.isConnected { return .success(()) }
                    if let error = state.abandonedWaiters.removeValue(forKey: id) { return .failure(error) }
                    state.waiters[id] = continuation
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
            return state.waiters.removeValue(forKey: id)
        }
        waiter?.resume(throwing: error)
    }
}
