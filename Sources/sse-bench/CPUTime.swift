import Foundation

/// A process's CPU time so far, in seconds, split as the kernel accounts it.
struct CPUTime: Codable, Sendable {
    var user: Double
    var system: Double

    var total: Double { user + system }

    /// `1.23 s (user 0.40, system 0.83)`.
    var text: String {
        String(format: "%.2f s (user %.2f, system %.2f)", total, user, system)
    }

    static func - (lhs: CPUTime, rhs: CPUTime) -> CPUTime {
        CPUTime(user: lhs.user - rhs.user, system: lhs.system - rhs.system)
    }
}
