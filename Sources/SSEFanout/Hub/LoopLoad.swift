import NIOCore

/// Whether an event loop is busy with its passes: the share of its time they take, measured over a
/// window, with hysteresis so that pacing (which lowers that share) does not switch itself off at once.
struct LoopLoad {
    /// Busy from this share of the loop's time spent in passes...
    let busyFrom: Double
    /// ...until it drops below this one.
    let idleBelow: Double
    let window: TimeAmount

    private(set) var isBusy = false
    private var windowStart: NIODeadline?
    private var timeInPasses = TimeAmount.zero

    init(busyFrom: Double = 0.75, idleBelow: Double = 0.5, window: TimeAmount = .milliseconds(500)) {
        self.busyFrom = busyFrom
        self.idleBelow = idleBelow
        self.window = window
    }

    /// For a loop that never paces its passes (`sse.pacing` off).
    static let neverBusy = LoopLoad(busyFrom: .infinity, idleBelow: .infinity)

    /// Records a pass; returns whether the loop counts as busy now.
    mutating func record(passFrom start: NIODeadline, to end: NIODeadline) -> Bool {
        let windowStart = self.windowStart ?? start
        self.windowStart = windowStart
        timeInPasses = timeInPasses + (end - start)
        let elapsed = end - windowStart
        if elapsed >= window, elapsed > .zero {
            let share = Double(timeInPasses.nanoseconds) / Double(elapsed.nanoseconds)
            isBusy = share >= busyFrom || (isBusy && share >= idleBelow)
            self.windowStart = end
            timeInPasses = .zero
        }
        return isBusy
    }
}
