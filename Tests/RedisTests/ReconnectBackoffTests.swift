import Testing

@testable import Redis

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

    @Test func manyFailuresDoNotOverflow() {
        var backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))
        for _ in 0..<10_000 { _ = backoff.nextDelay() }
        #expect(backoff.nextDelay() <= .seconds(5))
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
