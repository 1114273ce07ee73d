/// One write of a connection's registry entries; `RegistrationQueue` sends them to the registry in batches.
public enum RegistryWrite: Sendable, Hashable {
    /// See `Registry.register`.
    case register(ConnectionRecord, joinedChannels: [String])
    /// See `Registry.unregister`.
    case unregister(ConnectionRecord, leftChannels: [String])
}
