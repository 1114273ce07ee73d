/// Exponential backoff with jitter between failed connection attempts: the base delay starts at
/// `initial`, doubles per failure up to `maximum`, and each delay is drawn from the upper half of
/// the base, so that many nodes losing Redis at once do not reconnect in lockstep.
struct ReconnectBackoff {
    let initial: Duration
    let maximum: Duration
    private var failures = 0

    init(initial: Duration, maximum: Duration) {
        self.initial = max(initial, .zero)
        self.maximum = max(maximum, self.initial)
    }

    /// Records one more failed attempt and returns how long to wait before the next one.
    mutating func nextDelay() -> Duration {
        var base = initial
        // Doubling a capped value stops once it reaches the cap, so this never overflows.
        for _ in 0..<failures where base < maximum {
            base = min(base * 2, maximum)
        }
        failures += 1
        return base / 2 + (base / 2) * Double.random(in: 0...1)
    }

    /// A successful connection starts the next series of failures from `initial` again.
    mutating func reset() {
        failures = 0
    }
}
