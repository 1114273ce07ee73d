import CMalloc
import Logging

/// Gives freed heap back to the system every few seconds when `HeapTrimPolicy` says there is enough
/// of it (`node.memoryTrimThreshold`), so a node's RSS comes back down after a burst of streams or
/// slow clients. glibc only; with another allocator preloaded (jemalloc, mimalloc) glibc's arenas
/// stay empty and it never trims.
final class MemoryTrimmer: Sendable {
    private let threshold: Int
    private let interval: Duration
    private let logger: Logger

    init(threshold: Int, interval: Duration = .seconds(5), logger: Logger) {
        self.threshold = threshold
        self.interval = interval
        self.logger = logger
    }

    func run() async {
        var policy = HeapTrimPolicy(threshold: threshold)
        guard threshold > 0 else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let free = Int(mallinfo2().fordblks)
            guard policy.shouldTrim(freeBytes: free) else { continue }
            let started = ContinuousClock.now
            malloc_trim(0)
            logger.debug("freed heap returned to the system", metadata: [
                "freeBytes": "\(free)", "took": "\(ContinuousClock.now - started)",
            ])
        }
    }
}
