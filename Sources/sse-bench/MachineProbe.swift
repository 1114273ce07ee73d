#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The whole machine's busy CPU time, from the first line of `/proc/stat` (Linux): with the server's and
/// this tool's own time subtracted, what is left was spent by other processes during a measurement.
/// Interrupt and softirq time are left out: the kernel charges them to no process, and most of it is the
/// loopback traffic of the measurement itself (the receiving side of every TCP segment).
enum MachineProbe {
    /// user + nice + system + steal, over all cores, in seconds.
    static func busySeconds() throws -> Double {
        let path = "/proc/stat"
        let text = try ProcFile.contents(of: path)
        guard let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else {
            throw BenchError.procUnreadable(path)
        }
        let ticks = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { throw BenchError.procUnreadable(path) }
        // user nice system idle iowait irq softirq steal …
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[7]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
