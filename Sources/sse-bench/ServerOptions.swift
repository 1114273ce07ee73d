import ArgumentParser

/// The processes whose CPU time and memory a scenario reads from /proc (they must run on this machine).
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("pid"), help: "A server process to measure (for nginx: its worker); repeatable: their CPU time is summed (e.g. both nodes of a cross-node run).")
    var pids: [Int32] = []

    @Option(name: .customLong("service-pid"), help: "A process to report but not count as the server, e.g. redis-server or RabbitMQ's beam.smp; repeatable.")
    var servicePIDs: [Int32] = []

    func validate() throws {
        guard !pids.isEmpty else { throw ValidationError("give the server's process id with --pid") }
        for pid in pids + servicePIDs {
            guard (try? ProcessProbe(pid: pid).cpuTime()) != nil else {
                throw ValidationError("no process \(pid) to measure (/proc/\(pid)/stat is not readable)")
            }
        }
    }

    func meter() -> ProcessUsageMeter {
        ProcessUsageMeter(servers: pids, services: servicePIDs)
    }
}
