/// What one registry write changed cluster-wide, as the registry decided it atomically: the facts
/// behind the lifecycle events (`LifecyclePublisher`).
public struct PresenceChange: Sendable, Hashable {
    /// The place of this change among all presence changes of the cluster (a Redis counter), so that
    /// consumers can order events that different nodes publish; 0 when the write changed nothing
    /// (the connection was already registered, or already removed by someone else).
    public var sequence: Int64
    /// The connection's addresses of kinds with `occupancyEvents` whose first connection anywhere this
    /// was (registering: a user online, a channel occupied) or whose last (unregistering: offline,
    /// vacated), in the connection's order.
    public var occupancy: [Address]

    public init(sequence: Int64, occupancy: [Address] = []) {
        self.sequence = sequence
        self.occupancy = occupancy
    }

    /// Whether the write opened (or closed) the connection: false for a repeat, or for a removal
    /// another remover got to first.
    public var changed: Bool { sequence != 0 }

    public static let unchanged = PresenceChange(sequence: 0)
}
