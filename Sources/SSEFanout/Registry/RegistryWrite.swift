/// One write of a connection's registry entries; `RegistrationQueue` sends them to the registry in batches.
public enum RegistryWrite: Sendable, Hashable {
    /// A connection opened; `joined` are the addresses its node now has a first stream for.
    case register(ConnectionRecord, joined: [Address])
    /// A connection ended; `left` are the addresses its node has no stream for any more.
    case unregister(ConnectionRecord, left: [Address])
}

extension RegistryWrite {
    /// The connection written.
    public var record: ConnectionRecord {
        switch self {
        case .register(let record, _), .unregister(let record, _): record
        }
    }
}
