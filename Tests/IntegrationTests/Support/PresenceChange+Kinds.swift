import SSEFanout

/// The occupancy of a presence change by kind, as the contract tests check it.
extension PresenceChange {
    /// Registering: the user's first connection anywhere (online); unregistering: their last (offline).
    var userTransition: Bool { occupancy.contains { $0.kind == .user } }
    /// Channels occupied (registering) or vacated (unregistering).
    var channels: [String] { occupancy.compactMap { $0.kind == .channel ? $0.id : nil } }
}
