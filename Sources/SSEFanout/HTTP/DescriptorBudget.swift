import Foundation

/// How many connections the process's file descriptors allow: the soft `RLIMIT_NOFILE`, less those
/// open now (event loops, Redis, RabbitMQ, logs), less a reserve for what opens later (reconnects, the
/// JWKS URL, an HTTP backend's connections, the runtime's own reads of `/proc`).
enum DescriptorBudget {
    /// Descriptors never given to accepted connections.
    static let reserve = 32

    static func connections() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return Int.max }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return max(1, Int(clamping: limit.rlim_cur) - open - reserve)
    }
}
