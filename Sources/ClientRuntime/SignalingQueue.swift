#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Work handed from any thread to a connection's owning thread (`ConnectionThread`).
///
/// The owning thread sleeps in `takeAll` until work arrives, a deadline passes or the queue is
/// closed, so an idle connection costs no CPU yet still wakes up to service heartbeats.
/// Built on a pthread condition variable because neither Swift nor our dependencies export one.
public final class SignalingQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked: `items` and `closed` are only touched with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [Element] = []
    private var closed = false
    /// A pipe `append` and `close` write to while the owner polls in `waitForElements(orReadable:)`,
    /// made on first use.
    private var wakeReader: Int32 = -1
    private var wakeWriter: Int32 = -1
    private var polling = false

    public init() {
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
        if wakeReader >= 0 {
            _ = systemClose(wakeReader)
            _ = systemClose(wakeWriter)
        }
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Adds an element and wakes the owning thread; returns false (dropping it) once closed.
    @discardableResult
    public func append(_ element: Element) -> Bool {
        withLock {
            guard !closed else { return false }
            items.append(element)
            pthread_cond_signal(condition)
            wakePoller()
            return true
        }
    }

    /// Refuses further elements and wakes the owning thread; elements already queued can still be taken.
    public func close() {
        withLock {
            closed = true
            pthread_cond_broadcast(condition)
            wakePoller()
        }
    }

    public var isClosed: Bool {
        withLock { closed }
    }

    /// Takes every queued element, first waiting for one if there are none: empty only once closed.
    public func takeAll() -> [Element] {
        withLock {
            while items.isEmpty && !closed {
                pthread_cond_wait(condition, mutex)
            }
            defer { items.removeAll(keepingCapacity: true) }
            return items
        }
    }

    /// Takes every queued element, first waiting up to `timeout` if there are none (and not closed).
    public func takeAll(waitingAtMost timeout: Duration) -> [Element] {
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

    /// Returns once an element is queued, the queue is closed, `descriptor` is readable or `timeout`
    /// has passed: for an owner that also waits on a socket (a publisher awaiting confirms while
    /// new messages may arrive). Takes nothing.
    public func waitForElements(orReadable descriptor: Int32, atMost timeout: Duration) {
        let ready = withLock { () -> Bool in
            if !items.isEmpty || closed { return true }
            if wakeReader < 0 {
                // Without a pipe (out of descriptors) the wait still ends on the socket or the timeout.
                var ends: [Int32] = [0, 0]
                if pipe(&ends) == 0 {
                    for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
                    (wakeReader, wakeWriter) = (ends[0], ends[1])
                }
            }
            polling = wakeReader >= 0
            return false
        }
        if ready { return }
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        var descriptors = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0),
        ]
        _ = poll(&descriptors, descriptors[1].fd >= 0 ? 2 : 1, max(0, milliseconds))
        withLock { polling = false }
        if descriptors[1].revents != 0 {
            var drained = [UInt8](repeating: 0, count: 64)
            while read(wakeReader, &drained, drained.count) > 0 {}
        }
    }

    /// Called with the lock held.
    private func wakePoller() {
        guard polling else { return }
        polling = false
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }

    /// Sleeps until `deadline` or until closed, passing elements that arrive meanwhile to `handle`.
    public func sleep(until deadline: ContinuousClock.Instant, handlingArrivals handle: ([Element]) -> Void) {
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

    /// The C `close`, which `close()` above hides.
    private func systemClose(_ descriptor: Int32) -> Int32 {
        #if canImport(Darwin)
        Darwin.close(descriptor)
        #elseif canImport(Glibc)
        Glibc.close(descriptor)
        #else
        Musl.close(descriptor)
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
