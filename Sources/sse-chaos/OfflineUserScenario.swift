/// Some users close every client for a while (a laptop lid, a tunnel) while events are published to
/// them, then come back with the last id they saw.
struct OfflineUserScenario: ChaosScenario {
    static let name = "offline-user"
    static let abstract = "Some users have no connection while events are published to them, then connect again with their last id."

    /// Every fourth user, starting with chaos-1.
    static func isOffline(user: Int) -> Bool { user % 4 == 1 }

    func injectFaults(_ context: ScenarioContext) async throws {
        let away = context.clients.filter { Self.isOffline(user: $0.plan.user) }
        let names = away.map(\.plan.name).joined(separator: ", ")
        try await context.at(0.25)
        context.timeline.record("offline: \(names)")
        for client in away { client.goOffline() }
        try await context.at(0.6)
        context.timeline.record("back online, resuming with their last ids: \(names)")
        for client in away { client.comeBack() }
    }
}
