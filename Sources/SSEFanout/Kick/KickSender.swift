import Foundation

/// Sends a kick to every node (see `Kick`): keeps its bar and revocation in Redis first when it has
/// them, and answers how many nodes held the target.
final class KickSender: Sendable {
    private let registry: any Registry
    private let broker: any Broker
    /// How long a kick with `reconnect: false` bars its target.
    private let bar: Duration
    /// How long it refuses the target's older tokens: as long as a token may be valid.
    private let revocation: Duration

    init(registry: any Registry, broker: any Broker, bar: Duration, revocation: Duration) {
        self.registry = registry
        self.broker = broker
        self.bar = bar
        self.revocation = revocation
    }

    func send(_ kick: Kick) async throws -> Int {
        var kick = kick
        let nodes = try await registry.nodes(for: kick.target).count
        if !kick.reconnect, kick.cause == .kicked {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            kick.barredUntil = now + Self.milliseconds(bar)
            kick.revokedBefore = now
            kick.revokedUntil = now + Self.milliseconds(revocation)
            try await registry.saveBar(kick.target.key, body: kick.encode(), until: kick.keptUntil)
        }
        guard try await broker.sendControl(kick.encode()).routed else {
            throw Router.Failure.brokerUnavailable("the kick reached no node")
        }
        return nodes
    }
}

extension KickSender {
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
