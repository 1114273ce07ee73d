#if canImport(Glibc)
import Glibc
#endif

/// The time origin of one scenario (the moment publishing starts). Faults are scheduled as offsets from
/// it, and reports give times as seconds since it.
struct ScenarioClock: Sendable {
    let origin: ContinuousClock.Instant

    init(origin: ContinuousClock.Instant = .now) {
        self.origin = origin
    }

    /// Seconds since the origin (negative before it).
    var elapsedSeconds: Double {
        Self.seconds(ContinuousClock.now - origin)
    }

    /// Sleeps until `offset` after the origin; returns at once if that moment has passed.
    func sleep(untilOffset offset: Duration) async throws {
        try await Task.sleep(until: origin + offset, clock: .continuous)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Wall-clock microseconds since 1970: what a publisher puts in `sentAt`. Publisher and clients run in
    /// this one process, so receive time minus `sentAt` is the end-to-end latency without clock skew.
    static func wallMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
