/// Swift's concurrency runtime sets up its timers (libdispatch's epoll and timer descriptors) the first
/// time a task sleeps, and aborts the process (SIGILL) if it cannot get a descriptor then. A node that
/// runs out of descriptors must survive it (it pauses accepting and serves again), so its first sleep on
/// each clock happens at startup, before any connection can take the last descriptor.
enum RuntimeTimers {
    static func prepare() async {
        try? await Task.sleep(for: .milliseconds(1))
        try? await Task.sleep(until: SuspendingClock.now + .milliseconds(1), clock: SuspendingClock())
    }
}
