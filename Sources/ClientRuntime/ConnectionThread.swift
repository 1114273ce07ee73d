import NIOConcurrencyHelpers
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The one thread that owns a C connection for its whole life (rabbitmq-c and hiredis are blocking
/// and not thread-safe), and the queue through which any other thread hands it work. The blocking
/// C calls so never run on an event loop or the cooperative pool.
///
/// The thread runs the body given to `start` until that returns, which it should once `queue` is
/// closed; the thread then ends by itself, whether or not anyone awaits `stop()`. While it runs it
/// keeps this object alive.
public final class ConnectionThread<Work: Sendable>: Sendable {
    private enum State {
        case notStarted
        case started
        /// `stop()` came first: a later `start` must not bring it to life.
        case stoppedBeforeStart
    }

    /// Work for the thread, in the order it was handed over; `stop()` closes it.
    public let queue = SignalingQueue<Work>()
    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let state = NIOLockedValueBox(State.notStarted)
    private let ended = OneShot<Void, Never>()
    /// The thread's name, as `top -H`, `perf` and `/proc/<pid>/task/*/comm` show it (at most 15 bytes).
    private let name: String

    public init(name: String = "connection") {
        self.name = name
    }

    /// Runs `body` on the thread; only the first call has an effect, and none after `stop()`.
    /// Returns at once.
    public func start(_ body: @escaping @Sendable (SignalingQueue<Work>) -> Void) {
        let shouldStart = state.withLockedValue { state in
            guard case .notStarted = state else { return false }
            state = .started
            return true
        }
        guard shouldStart else { return }
        pool.start()
        pool.submit { [self] workState in
            Self.nameCurrentThread(name)
            if case .active = workState { body(queue) }
            // Shut down from the thread itself, so that it ends however its owner goes away.
            pool.shutdownGracefully { _ in self.ended.complete(.success(())) }
        }
    }

    /// Names the calling thread (Linux keeps 15 bytes of it): written to /proc, as `pthread_setname_np`,
    /// which Swift's Glibc module does not declare, would.
    private static func nameCurrentThread(_ name: String) {
        #if canImport(Glibc)
        let descriptor = open("/proc/thread-self/comm", O_WRONLY)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        #endif
    }

    /// Closes the queue and waits until the body has returned and the thread has ended; if never
    /// started, it never will be.
    public func stop() async {
        queue.close()
        let started = state.withLockedValue { state in
            if case .started = state { return true }
            state = .stoppedBeforeStart
            return false
        }
        guard started else { return }
        _ = await ended.result
    }
}
