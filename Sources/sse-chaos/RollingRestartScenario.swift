/// A deploy: each node in turn gets SIGTERM (graceful drain), exits, and is started again on the same
/// port; the next one goes only once it answers /readyz.
struct RollingRestartScenario: ChaosScenario {
    static let name = "rolling-restart"
    static let abstract = "SIGTERM each node in turn and start it again on the same port, waiting until it is ready before the next."

    func injectFaults(_ context: ScenarioContext) async throws {
        let ports = context.cluster.nodePorts
        for (index, port) in ports.enumerated() {
            try await context.at(Double(index + 1) / Double(ports.count + 1))
            context.timeline.record("SIGTERM node \(port)")
            let drained = try await context.cluster.terminate(port)
            context.timeline.record("node \(port) exited after \(drained) s; restarting it on the same port")
            let ready = try await context.cluster.startNode(port)
            context.timeline.record("node \(port) ready again after \(ready) s")
        }
    }
}
