/// Samples a process's resident memory at a fixed interval, timed on a scenario clock.
enum MemorySampler {
    struct Sample: Sendable {
        /// Seconds since the clock's origin.
        var at: Double
        var residentKiB: Int
    }

    /// Samples `pid` every `interval` until `offset` after the clock's origin, the process exits, or
    /// the task is cancelled.
    static func sample(pid: Int32, clock: ScenarioClock, until offset: Duration, every interval: Duration = .milliseconds(250)) async -> [Sample] {
        var samples: [Sample] = []
        let end = ScenarioClock.seconds(offset)
        while clock.elapsedSeconds < end, !Task.isCancelled {
            guard let kib = ProcessMemory.residentKiB(pid: pid) else { break }
            samples.append(Sample(at: clock.elapsedSeconds, residentKiB: kib))
            try? await Task.sleep(for: interval)
        }
        return samples
    }

    /// The largest sample taken in `window` (seconds since the origin), if any.
    static func peakKiB(_ samples: [Sample], in window: Range<Double>) -> Int? {
        samples.filter { window.contains($0.at) }.map(\.residentKiB).max()
    }
}
