import Synchronization

/// Whether the client is connected and, if not, why: written by the connection's thread, read from
/// anywhere (a readiness probe), hence the lock.
final class RedisConnectionStatus: Sendable {
    private struct State {
        var isConnected = false
        var lastError: String? = "not connected yet"
    }

    private let state = Mutex(State())

    var isConnected: Bool { state.withLock { $0.isConnected } }
    var lastError: String? { state.withLock { $0.lastError } }

    func markConnected() {
        state.withLock { $0 = State(isConnected: true, lastError: nil) }
    }

    func markDisconnected(_ reason: String) {
        state.withLock { $0 = State(isConnected: false, lastError: reason) }
    }
}
