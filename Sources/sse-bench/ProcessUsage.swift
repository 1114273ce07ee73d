/// One measured process over a scenario's window: CPU time used in it, and resident memory at its end.
struct ProcessUsage: Codable, Sendable {
    var pid: Int32
    /// From /proc/<pid>/comm, e.g. `sse-fanout`, `nginx`, `redis-server`, `beam.smp`.
    var name: String
    /// `server` (counted in the per-CPU figures) or `service` (reported only).
    var role: String
    var cpu: CPUTime
    var rssKiB: Int

    /// A table row: name and pid, then what it used.
    var tableCells: [String] {
        ["  \(name) \(pid)", cpu.text + ", RSS \(rssKiB) KiB" + (role == "service" ? " (service)" : "")]
    }
}
