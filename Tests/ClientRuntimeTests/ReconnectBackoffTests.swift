import ClientRuntime
import Testing

@Suite("ReconnectBackoff")
struct ReconnectBackoffTests {
    @Test func doublesWithJitterUpToTheMaximumAndResets() {
        var backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))
        let bases: [Duration] = [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
            .milliseconds(1600), .milliseconds(3200), .seconds(5), .seconds(5), .seconds(5),
        ]
        for base in bases {
            let delay = backoff.nextDelay()
            #expect(delay >= base / 2 && delay <= base, "delay \(delay) outside jitter range of \(base)")
        }
        backoff.reset()
        let delay = backoff.nextDelay()
        #expect(delay >= .milliseconds(50) && delay <= .milliseconds(100))
    }

    @Test func defaultsToOneHundredMillisecondsUpToFiveSeconds() {
        let backoff = ReconnectBackoff()
        #expect(backoff.step(afterFailures: 0) == .milliseconds(100))
        #expect(backoff.step(afterFailures: 5) == .milliseconds(3200))
        #expect(backoff.step(afterFailures: 6) == .seconds(5))
    }

    @Test func stepsWithoutJitterDoubleUpToTheMaximum() {
        let backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1))
        let steps = (0...6).map { backoff.step(afterFailures: $0) }
        #expect(steps == [100, 200, 400, 800, 1000, 1000, 1000].map { .milliseconds($0) })
    }

    @Test func manyFailuresDoNotOverflow() {
        var backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))
        for _ in 0..<10_000 { _ = backoff.nextDelay() }
        #expect(backoff.nextDelay() <= .seconds(5))
        #expect(backoff.step(afterFailures: .max) == .seconds(5))
    }

    @Test func oddBoundsAreClamped() {
        let zero = ReconnectBackoff(initial: .zero, maximum: .seconds(1))
        #expect(zero.step(afterFailures: .max) == .zero)
        let inverted = ReconnectBackoff(initial: .seconds(2), maximum: .seconds(1))
        #expect(inverted.maximum == .seconds(2))
        #expect(inverted.step(afterFailures: 3) == .seconds(2))
        let negative = ReconnectBackoff(initial: .seconds(-1), maximum: .seconds(1))
        #expect(negative.initial == .zero)
    }

    @Test func jitterSpreadsDelays() {
        var delays = Set<Duration>()
        for _ in 0..<20 {
            var backoff = ReconnectBackoff(initial: .seconds(1), maximum: .seconds(5))
            delays.insert(backoff.nextDelay())
        }
        #expect(delays.count > 1)
    }
}
