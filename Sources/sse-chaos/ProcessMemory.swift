import Foundation

/// Resident memory of a process, from /proc/<pid>/status (Linux).
enum ProcessMemory {
    /// `VmRSS` in KiB, or nil if the process is gone.
    static func residentKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2 { return Int(fields[1]) }
        }
        return nil
    }
}
