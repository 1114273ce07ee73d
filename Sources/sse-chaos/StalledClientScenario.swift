import Foundation

/// One client stops reading. The node must notice its buffer limit and disconnect it, without its own
/// memory growing and without other clients' latency moving; the client then drains what reached its
/// socket, reconnects as a normal reader with its last id, and must still get everything.
struct StalledClientScenario: ChaosScenario {
    static let name = "stalled-client"
    static let abstract = "A client stops reading (raw socket, small receive buffer, large events); the node must drop it without growing or slowing others; it resumes with its last id."

    /// chaos-0's first client stalls. chaos-0's events carry --stall-padding filler and it gets
    /// --stall-weight turns per round-robin cycle: the node's socket send buffer alone grows to a few
    /// MiB on loopback, and only what exceeds it and the node's own limit makes the node act.
    static let stalledUser = 0
    /// The stall, as fractions of the publishing window.
    static let stallStart = 0.2
    static let stallEnd = 0.6

    func clientPlans(_ settings: RunSettings) -> [ClientPlan] {
        var plans = ClientPlan.roster(users: settings.users, ports: settings.nodePorts)
        if let index = plans.firstIndex(where: { $0.user == Self.stalledUser }) {
            plans[index].usesStallingSocket = true
        }
        return plans
    }

    func traffic(_ settings: RunSettings) -> [Int: UserTraffic] {
        [Self.stalledUser: UserTraffic(padding: settings.stallPadding, weight: settings.stallWeight)]
    }

    func injectFaults(_ context: ScenarioContext) async throws {
        guard let stalled = context.clients.first(where: { $0.plan.usesStallingSocket }) else { return }
        let port = stalled.plan.firstPort
        let duration = ScenarioClock.seconds(context.settings.duration)
        let stall = (duration * Self.stallStart)..<(duration * Self.stallEnd)
        guard let pid = context.cluster.pid(ofNode: port) else {
            context.addCheck(ScenarioCheck(name: "node memory bounded", passed: false, detail: "node \(port) is not running"))
            return
        }
        async let memory = MemorySampler.sample(pid: pid, clock: context.clock, until: context.settings.duration * Self.stallEnd)

        try await context.at(Self.stallStart)
        context.timeline.record("\(stalled.plan.name) stops reading its stream on node \(port)")
        stalled.stopReading()
        try await context.at(Self.stallEnd)
        context.timeline.record("\(stalled.plan.name) reads again")
        stalled.resumeReading()
        context.addCheck(memoryCheck(await memory, node: port, stall: stall, limitMiB: context.settings.maxMemoryGrowthMiB))

        let ended = try await BoundedPoll.until(timeout: .seconds(15)) { stalled.log.snapshot.stall != nil }
        if ended, let outcome = stalled.log.snapshot.stall {
            context.timeline.record(
                "\(stalled.plan.name)'s stalled stream ended \(outcome.secondsToEnd.map { "\($0) s" } ?? "") after it read again "
                    + "(\(outcome.eventsDrained) events drained from the socket buffers); it reconnects with its last id"
            )
        } else {
            context.timeline.record("\(stalled.plan.name)'s stalled stream is still open 15 s after it read again")
        }
    }

    func finalChecks(_ context: ScenarioContext) -> [ScenarioCheck] {
        guard let stalled = context.clients.first(where: { $0.plan.usesStallingSocket }) else { return [] }
        let outcome = stalled.log.snapshot.stall
        let disconnected = ScenarioCheck(
            name: "server disconnected the stalled client",
            passed: outcome?.disconnectedByServer == true,
            detail: outcome.map {
                $0.disconnectedByServer
                    ? "its stream ended after it read again (\($0.eventsDrained) events were still in the socket buffers)"
                    : "its stream was still open when the scenario ended"
            } ?? "it never opened its stalling stream"
        )
        return [disconnected, latencyCheck(context)]
    }

    private func memoryCheck(_ samples: [MemorySampler.Sample], node: Int, stall: Range<Double>, limitMiB: Double) -> ScenarioCheck {
        guard let before = MemorySampler.peakKiB(samples, in: -1..<stall.lowerBound),
            let during = MemorySampler.peakKiB(samples, in: stall)
        else {
            return ScenarioCheck(name: "node memory bounded", passed: false, detail: "no memory samples of node \(node)")
        }
        let growthMiB = Double(during - before) / 1024
        return ScenarioCheck(
            name: "node memory bounded",
            passed: growthMiB <= limitMiB,
            detail: String(
                format: "node %d peak RSS %.1f MiB before the stall, %.1f MiB during it (%+.1f MiB; limit %.0f)",
                node, Double(before) / 1024, Double(during) / 1024, growthMiB, limitMiB
            )
        )
    }

    /// Other users' p99 latency while the client is stalled against before (after a short warm-up).
    private func latencyCheck(_ context: ScenarioContext) -> ScenarioCheck {
        let duration = ScenarioClock.seconds(context.settings.duration)
        let before = (duration * 0.05)..<(duration * Self.stallStart)
        let during = (duration * Self.stallStart)..<(duration * Self.stallEnd)
        var samplesBefore: [Int64] = []
        var samplesDuring: [Int64] = []
        for client in context.clients where client.plan.user != Self.stalledUser {
            for event in client.log.snapshot.received {
                let at = ScenarioClock.seconds(event.at - context.clock.origin)
                if before.contains(at) { samplesBefore.append(event.latencyMicros) }
                if during.contains(at) { samplesDuring.append(event.latencyMicros) }
            }
        }
        guard let p99Before = LatencySummary(microseconds: samplesBefore)?.p99,
            let p99During = LatencySummary(microseconds: samplesDuring)?.p99
        else {
            return ScenarioCheck(name: "other clients' latency unchanged", passed: false, detail: "no events received by other clients")
        }
        let limit = context.settings.maxLatencyIncreaseMs
        return ScenarioCheck(
            name: "other clients' latency unchanged",
            passed: p99During - p99Before <= limit,
            detail: String(format: "p99 %.1f ms before the stall, %.1f ms during it (limit: +%.0f ms)", p99Before, p99During, limit)
        )
    }
}
