import NIOCore

/// The CPU-time bookkeeping of one measured window: the servers' and services' (`ProcessUsageMeter`),
/// this tool's own, and what the rest of the machine used meanwhile (a sign the window was disturbed).
struct MeasurementWindow {
    /// What the window came to.
    struct Usage {
        var processes: [ProcessUsage]
        var clientCPU: CPUTime
        var otherCPUSeconds: Double
        var seconds: Double
    }

    let start: NIODeadline
    private let meter: ProcessUsageMeter
    private let clientBefore: CPUTime
    private let machineBefore: Double

    /// Opens the window now.
    init(meter: ProcessUsageMeter) throws {
        var meter = meter
        try meter.start()
        self.meter = meter
        clientBefore = try ProcessProbe.current.cpuTime()
        machineBefore = try MachineProbe.busySeconds()
        start = .now()
    }

    /// Closes the window now.
    func finish() throws -> Usage {
        let seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        let processes = try meter.usage()
        let clientCPU = try ProcessProbe.current.cpuTime() - clientBefore
        let measured = processes.reduce(clientCPU.total) { $0 + $1.cpu.total }
        let other = try MachineProbe.busySeconds() - machineBefore - measured
        return Usage(processes: processes, clientCPU: clientCPU, otherCPUSeconds: max(0, other), seconds: seconds)
    }
}
