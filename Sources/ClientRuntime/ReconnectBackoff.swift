/// Delays between attempts to reach a server that failed: a step that starts at `initial` and doubles
/// per failure up to `maximum`, and each delay drawn at random from the upper half of its step, so that
/// many clients that lost the server together do not come back in lockstep.
public struct ReconnectBackoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    private var failures = 0

    /// A negative `initial` counts as zero, a `maximum` below `initial` as `initial`.
    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = max(initial, .zero)
        self.maximum = max(maximum, self.initial)
    }

    /// The step after `failures` failed attempts, without jitter: `initial` doubled that many times,
    /// at most `maximum`. For a caller that keeps its own count and wants no jitter.
    public func step(afterFailures failures: Int) -> Duration {
        var step = initial
        var doublings = failures
        // Doubling stops at the cap (or at zero), so it neither overflows nor runs per failure for ever.
        while doublings > 0 && step < maximum && step > .zero {
            step = min(step * 2, maximum)
            doublings -= 1
        }
        return step
    }

    /// Records one more failed attempt and returns how long to wait before the next one: a random
    /// value between half and all of the current step.
    public mutating func nextDelay() -> Duration {
        let step = step(afterFailures: failures)
        failures += 1
        return step / 2 + (step / 2) * Double.random(in: 0...1)
    }

    /// Called once connected, so that the next outage starts again from `initial`.
    public mutating func reset() {
        failures = 0
    }
}
