import Foundation

/// Sends a kick to every node (see `Kick`): keeps its bar in Redis first when it has one, and answers
/// how many nodes held the target.
final class KickSender: Sendable {
    private let registry: any Registry
    private let broker: any Broker
    /// How long a kick with `reconnect: false` bars its target.
    private let bar: Duration

    init(registry: any Registry, broker: any Broker, bar: Duration) {
        self.registry = registry
        self.broker = broker
        self.bar = bar
    }

    func send(_ kick: Kick) async throws -> Int {
        var kick = kick
        let nodes = try await registry.nodes(for: kick.target).count
        if !kick.reconnect, kick.cause == .kicked {
            let until = Int64(Date().timeIntervalSince1970 * 1000) + Int64(bar.components.seconds * 1000)
            kick.barredUntil = until
            try await registry.saveBar(kick.target.key, body: kick.encode(), until: until)
        }
        guard try await broker.sendControl(kick.encode()).routed else {
            throw Router.Failure.brokerUnavailable("the kick reached no node")
        }
        return nodes
    }
}
