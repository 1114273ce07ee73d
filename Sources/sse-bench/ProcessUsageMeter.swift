/// Reads the CPU time of the server processes (and of services such as Redis and RabbitMQ) when a window
/// starts, and what each used when it ends.
struct ProcessUsageMeter {
    private let servers: [ProcessProbe]
    private let services: [ProcessProbe]
    private var before: [Int32: CPUTime] = [:]

    init(servers: [Int32], services: [Int32]) {
        self.servers = servers.map(ProcessProbe.init(pid:))
        self.services = services.map(ProcessProbe.init(pid:))
    }

    /// Starts the window.
    mutating func start() throws {
        for probe in servers + services {
            before[probe.pid] = try probe.cpuTime()
        }
    }

    /// Each process's CPU time since `start()` and its resident memory now.
    func usage() throws -> [ProcessUsage] {
        func read(_ probe: ProcessProbe, role: String) throws -> ProcessUsage {
            ProcessUsage(
                pid: probe.pid, name: (try? probe.name()) ?? "?", role: role,
                cpu: try probe.cpuTime() - (before[probe.pid] ?? CPUTime(user: 0, system: 0)),
                rssKiB: try probe.residentKiB()
            )
        }
        return try servers.map { try read($0, role: "server") } + services.map { try read($0, role: "service") }
    }
}
