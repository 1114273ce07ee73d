/// A node dies without warning while events flow to its users; its clients reconnect elsewhere with
/// their last id, and later the node comes back on the same port as a new incarnation.
struct KillNodeScenario: ChaosScenario {
    static let name = "kill-node"
    static let abstract = "kill -9 a node while events flow to its users; its clients reconnect to another node; it restarts on the same port."

    func injectFaults(_ context: ScenarioContext) async throws {
        let ports = context.cluster.nodePorts
        let victim = ports[ports.count / 2]
        try await context.at(1.0 / 3)
        context.timeline.record("kill -9 node \(victim) (pid \(context.cluster.pid(ofNode: victim).map(String.init) ?? "?"))")
        try await context.cluster.kill(victim)
        try await context.at(2.0 / 3)
        context.timeline.record("restarting node \(victim) on the same port")
        let seconds = try await context.cluster.startNode(victim)
        context.timeline.record("node \(victim) ready again after \(seconds) s")
    }
}
