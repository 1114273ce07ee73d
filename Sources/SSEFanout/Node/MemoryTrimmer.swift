import CMalloc
import Logging
import ServiceLifecycle

/// Gives freed heap back to the system every few seconds when `HeapTrimPolicy` says there is enough
/// of it (`node.memoryTrimThreshold`), so a node's RSS comes back down after a burst of streams or
/// slow clients. glibc only; with another allocator preloaded (jemalloc, mimalloc) glibc's arenas
/// stay empty and it never trims. Runs until cancelled or shut down, also when it never trims
/// (threshold 0): a service that returned early would end the node's service group.
final class MemoryTrimmer: Service, Sendable {
    private let threshold: Int
    private let interval: Duration
    private let logger: Logger

    init(threshold: Int, interval: Duration = .seconds(5), logger: Logger) {
        self.threshold = threshold
        self.interval = interval
        self.logger = logger
    }

    func run() async {
        guard threshold > 0 else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown { [self] in await trim() }
    }

    private func trim() async {
        var policy = HeapTrimPolicy(threshold: threshold)
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
