/// A process's CPU time so far, in seconds, split as the kernel accounts it.
struct CPUTime: Codable, Sendable {
    var user: Double
    var system: Double

    var total: Double { user + system }

    static func - (lhs: CPUTime, rhs: CPUTime) -> CPUTime {
        CPUTime(user: lhs.user - rhs.user, system: lhs.system - rhs.system)
    }
}
