/// What one registry write changed cluster-wide, as the registry decided it atomically: the facts
/// behind the lifecycle events (`LifecyclePublisher`).
public struct PresenceChange: Sendable, Hashable {
    /// The place of this change among all presence changes of the cluster (a Redis counter), so that
    /// consumers can order events that different nodes publish; 0 when the write changed nothing
    /// (the connection was already registered, or already removed by someone else).
    public var sequence: Int64
    /// Registering: the user's first connection anywhere (online). Unregistering: their last (offline).
    public var userTransition: Bool
    /// Registering: channels this connection is the first subscriber of, cluster-wide (occupied).
    /// Unregistering: channels it was the last subscriber of (vacated).
    public var channels: [String]

    public init(sequence: Int64, userTransition: Bool = false, channels: [String] = []) {
        self.sequence = sequence
        self.userTransition = userTransition
        self.channels = channels
    }

    /// Whether the write opened (or closed) the connection: false for a repeat, or for a removal
    /// another remover got to first.
    public var changed: Bool { sequence != 0 }

    public static let unchanged = PresenceChange(sequence: 0)
}
