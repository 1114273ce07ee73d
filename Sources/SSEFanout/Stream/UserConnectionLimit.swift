import Logging

/// How many streams one user may hold across the cluster (`limits.maxConnectionsPerUser`), counted
/// from the registry's presence data. Over it, either a new stream is refused (429) before it opens,
/// or, once it is registered, the user's oldest streams are closed (`event: close`, reason
/// `replaced`) through the same control path as a kick, wherever they are.
///
/// The count is read, not reserved: two streams of one user opening on two nodes at the same moment
/// can both pass, so the limit is exact within a node's turn and may be passed by one briefly.
final class UserConnectionLimit: Sendable {
    let maximum: Int
    let policy: NodeConfiguration.UserLimitPolicy
    private let presence: any Presence
    private let kick: @Sendable (Kick) async throws -> Int
    private let logger: Logger
    /// For the warning that the limit was hit.
    private let log: RateLimitedLog

    init(
        maximum: Int, policy: NodeConfiguration.UserLimitPolicy, presence: any Presence, logger: Logger, log: RateLimitedLog,
        kick: @escaping @Sendable (Kick) async throws -> Int
    ) {
        self.maximum = maximum
        self.policy = policy
        self.presence = presence
        self.logger = logger
        self.log = log
        self.kick = kick
    }

    var isOn: Bool { maximum > 0 }

    /// `refuse-new`: whether the user may open one more. An unreachable registry lets it through:
    /// a limit is no reason to refuse service.
    func admits(user: String, tenant: String) async -> Bool {
        guard policy == .refuseNew else { return true }
        do {
            return try await presence.userPresence(user, tenant: tenant, limit: maximum).connections.count < maximum
        } catch {
            logger.warning("could not count a user's streams; letting the new one open", metadata: ["error": "\(error)"])
            return true
        }
    }

    /// `close-oldest`: once `record` is registered, closes the user's oldest streams past the limit.
    func enforce(after record: ConnectionRecord) {
        guard policy == .closeOldest, let user = record.user else { return }
        let presence = self.presence
        let maximum = self.maximum
        let kick = self.kick
        let logger = self.logger
        let log = self.log
        Task {
            do {
                let connections = try await presence.userPresence(user, tenant: record.tenant, limit: maximum + 64).connections
                guard connections.count > maximum else { return }
                log.note("per-user connection limit reached: closing the oldest streams as replaced", logger: logger, metadata: ["limit": "\(maximum)"])
                let oldest = connections.sorted { ($0.connectedAt, $0.connectionID) < ($1.connectedAt, $1.connectionID) }
                for connection in oldest.prefix(connections.count - maximum) where connection.connectionID != record.connectionID {
                    _ = try await kick(Kick(target: .connection(connection.connectionID), reason: "replaced", reconnect: false, cause: .replaced))
                }
            } catch {
                logger.warning("could not close a user's streams past the limit", metadata: ["error": "\(error)"])
            }
        }
    }
}
