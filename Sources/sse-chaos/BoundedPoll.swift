/// Waits for a condition by checking it at a fixed interval, giving up after a timeout. Used where nothing
/// pushes a notification (a port opening, a process exiting, every client having caught up).
enum BoundedPoll {
    /// Returns true as soon as `condition` holds, false once `timeout` passed without it.
    /// Throws only `CancellationError`.
    static func until(
        timeout: Duration,
        every interval: Duration = .milliseconds(100),
        _ condition: () async -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if await condition() { return true }
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: interval)
        }
    }
}
