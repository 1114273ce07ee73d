/// The sums over a scenario's server processes (services left out), as results report them.
struct ProcessUsageTotals {
    var cpu = CPUTime(user: 0, system: 0)
    var rssKiB = 0

    init(_ usage: [ProcessUsage]) {
        for process in usage where process.role == "server" {
            cpu = CPUTime(user: cpu.user + process.cpu.user, system: cpu.system + process.cpu.system)
            rssKiB += process.rssKiB
        }
    }
}
