import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a process's resident memory and CPU time from `/proc/<pid>` (Linux).
struct ProcessProbe: Sendable {
    let pid: Int32

    /// This process (the load tool itself).
    static var current: ProcessProbe { ProcessProbe(pid: getpid()) }

    /// `VmRSS` from `/proc/<pid>/status`, in KiB.
    func residentKiB() throws -> Int {
        let path = "/proc/\(pid)/status"
        for line in try ProcFile.contents(of: path).split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Int(fields[1]) { return kib }
        }
        throw BenchError.procUnreadable(path)
    }

    /// The command name from `/proc/<pid>/comm`.
    func name() throws -> String {
        try ProcFile.contents(of: "/proc/\(pid)/comm").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// User and system CPU time from `/proc/<pid>/stat` (utime and stime, fields 14 and 15).
    func cpuTime() throws -> CPUTime {
        let path = "/proc/\(pid)/stat"
        let text = try ProcFile.contents(of: path)
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        guard let close = text.lastIndex(of: ")") else { throw BenchError.procUnreadable(path) }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw BenchError.procUnreadable(path)
        }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        return CPUTime(user: user / ticksPerSecond, system: system / ticksPerSecond)
    }
}
