/// Delays between reconnect attempts: exponential from 100 ms up to 5 s, with jitter so that
/// many nodes that lost the broker together do not reconnect in lockstep.
struct ReconnectBackoff {
    var initialDelay: Duration = .milliseconds(100)
    var maximumDelay: Duration = .seconds(5)
    private var failures = 0

    /// The delay before the next attempt: a random value between half and all of the current step.
    mutating func nextDelay() -> Duration {
        let step = min(initialDelay * (1 << min(failures, 20)), maximumDelay)
        failures += 1
        return step / 2 + step / 2 * Double.random(in: 0...1)
    }

    /// Called once connected, so the next outage starts again from the shortest delay.
    mutating func reset() {
        failures = 0
    }
}
