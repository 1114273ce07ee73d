#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Work handed from any thread to a connection's owning thread.
///
/// The owning thread sleeps in `takeAll` until work arrives, a deadline passes or the queue is
/// closed, so an idle connection costs no CPU yet still wakes up to service heartbeats.
/// Built on a pthread condition variable because neither Swift nor our dependencies export one.
final class SignalingQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked: `items` and `closed` are only touched with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [Element] = []
    private var closed = false

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
        // Deadlines are measured on the monotonic clock, immune to wall-clock jumps.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Adds an element and wakes the owning thread; returns false (dropping it) once closed.
    @discardableResult
    func append(_ element: Element) -> Bool {
        withLock {
            guard !closed else { return false }
            items.append(element)
            pthread_cond_signal(condition)
            return true
        }
    }

    /// Refuses further elements and wakes the owning thread; elements already queued can still be taken.
    func close() {
        withLock {
            closed = true
            pthread_cond_broadcast(condition)
        }
    }

    var isClosed: Bool {
        withLock { closed }
    }

    /// Takes every queued element, first waiting up to `timeout` if there are none (and not closed).
    func takeAll(waitingAtMost timeout: Duration) -> [Element] {
        withLock {
            if items.isEmpty && !closed && timeout > .zero {
                var deadline = Self.monotonicTimespec(after: timeout)
                while items.isEmpty && !closed {
                    if waitForSignal(until: &deadline) == ETIMEDOUT { break }
                }
            }
            defer { items.removeAll(keepingCapacity: true) }
            return items
        }
    }

    /// Sleeps until `deadline` or until closed, passing elements that arrive meanwhile to `handle`.
    func sleep(until deadline: ContinuousClock.Instant, handlingArrivals handle: ([Element]) -> Void) {
        while !isClosed {
            let remaining = deadline - .now
            guard remaining > .zero else { return }
            let arrived = takeAll(waitingAtMost: remaining)
            if !arrived.isEmpty { handle(arrived) }
        }
    }

    private func withLock<Result>(_ body: () -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    private func waitForSignal(until deadline: inout timespec) -> Int32 {
        #if canImport(Darwin)
        // Darwin has no monotonic condition clock; wait for the remaining relative time instead.
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let remainingNanoseconds = max(0, (deadline.tv_sec - now.tv_sec) * 1_000_000_000 + (deadline.tv_nsec - now.tv_nsec))
        var relative = timespec(tv_sec: remainingNanoseconds / 1_000_000_000, tv_nsec: remainingNanoseconds % 1_000_000_000)
        return pthread_cond_timedwait_relative_np(condition, mutex, &relative)
        #else
        return pthread_cond_timedwait(condition, mutex, &deadline)
        #endif
    }

    private static func monotonicTimespec(after timeout: Duration) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = timeout.components
        var deadline = timespec(
            tv_sec: now.tv_sec + Int(seconds),
            tv_nsec: now.tv_nsec + Int(attoseconds / 1_000_000_000)
        )
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_sec += 1
            deadline.tv_nsec -= 1_000_000_000
        }
        return deadline
    }
}
