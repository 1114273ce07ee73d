/// Why the node cannot serve right now: what `/readyz` answers and what the readiness gate
/// (`SharedQueueGate`) asks every 250 ms.
struct ReadinessCheck: Sendable {
    let broker: any Broker
    let authenticator: Authenticator
    let registry: any Registry
    let metrics: NodeMetrics

    /// Why not, one reason per part; empty when ready. The answer is kept in the `sse_ready` gauge.
    func problems() async -> [String] {
        var problems: [String] = []
        if let reason = broker.notReadyReason { problems.append(reason) }
        if let reason = authenticator.notReadyReason { problems.append(reason) }
        do {
            try await registry.checkReady()
        } catch {
            problems.append("Redis unreachable: \(error)")
        }
        metrics.ready.record(problems.isEmpty ? 1 : 0)
        return problems
    }
}
