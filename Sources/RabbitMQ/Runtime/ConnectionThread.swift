import NIOPosix
import Synchronization

/// The one thread that owns a rabbitmq-c connection for its whole life (rabbitmq-c is not
/// thread-safe), so the blocking C calls never run on an event loop or the cooperative pool.
final class ConnectionThread: Sendable {
    private enum State {
        case notStarted
        case running(waiters: [CheckedContinuation<Void, Never>])
        case finished
    }

    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let state = Mutex(State.notStarted)

    /// Runs `body` on the thread; only the first call has an effect. Returns at once.
    func start(_ body: @escaping @Sendable () -> Void) {
        let shouldStart = state.withLock { state in
            guard case .notStarted = state else { return false }
            state = .running(waiters: [])
            return true
        }
        guard shouldStart else { return }
        pool.start()
        pool.submit { [self] workState in
            if case .active = workState { body() }
            finish()
        }
    }

    /// Waits until `body` has returned and the thread has ended; if never started, it never will be.
    func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyDone = state.withLock { state in
                switch state {
                case .notStarted:
                    state = .finished  // a later start() must not bring it to life
                    return true
                case .finished:
                    return true
                case .running(var waiters):
                    waiters.append(continuation)
                    state = .running(waiters: waiters)
                    return false
                }
            }
            if alreadyDone { continuation.resume() }
        }
        try? await pool.shutdownGracefully()
    }

    private func finish() {
        let waiters = state.withLock { state in
            defer { state = .finished }
            if case .running(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume() }
    }
}
