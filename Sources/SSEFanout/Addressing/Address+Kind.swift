/// What each kind of address means beyond routing. Every declaration is a switch over all kinds, so
/// a new kind does not compile until each is answered.
extension Address.Kind {
    /// What the registry keeps for each address of this kind (`RegistryScript` in Redis, `PresenceIndex`
    /// in process).
    public struct Presence: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Its connections are indexed (`presence:conns:<address>`): presence lists and counts them.
        public static let indexed = Presence(rawValue: 1)
        /// The users of its connections are listed (`presence:users:<address>`).
        public static let listsUsers = Presence(rawValue: 2)
    }

    /// The tenant is left out: it is every connection's scope, indexed and listing users as such,
    /// with or without a tenant address (the default tenant has none).
    public var presence: Presence {
        switch self {
        case .user, .session: [.indexed]
        case .channel: [.indexed, .listsUsers]
        case .connection, .client, .tenant, .broadcast: []
        }
    }

    /// The lifecycle events of an address's first and last connection anywhere in the cluster, which
    /// the registry reports atomically with the write that makes them; nil for kinds without. Such a
    /// kind must be `.indexed` (its connections are what is counted).
    public var occupancyEvents: (first: LifecycleEvent.Kind, last: LifecycleEvent.Kind)? {
        switch self {
        case .user: (.userOnline, .userOffline)
        case .channel: (.channelOccupied, .channelVacated)
        case .connection, .session, .client, .tenant, .broadcast: nil
        }
    }

    /// How a connection's JSON names its address of this kind (the `connected` event, presence, lifecycle
    /// events): a string, or an array for kinds a connection holds several of (`several`). Nil: not part
    /// of a connection's identity. The tenant is written by `ConnectionCodec` for every connection.
    public var field: (name: String, several: Bool)? {
        switch self {
        case .user: ("user", false)
        case .session: ("session", false)
        case .client: ("clientId", false)
        case .channel: ("channels", true)
        case .connection, .tenant, .broadcast: nil
        }
    }

    /// For kinds a connection holds several of: the field that names the one address a lifecycle
    /// event is about (`channel.occupied` carries `"channel"`).
    public var eventField: String? {
        switch self {
        case .channel: "channel"
        case .connection, .user, .session, .client, .tenant, .broadcast: nil
        }
    }

    /// The header that names the sender's address of this kind on a browser's send or upload, as the
    /// backend gets it (`X-SSE-User` over HTTP, `x-sse-user` on `sse.upstream`).
    public var senderHeader: String? {
        switch self {
        case .user: "X-SSE-User"
        case .session: "X-SSE-Session"
        case .client: "X-SSE-Client"
        case .tenant: "X-SSE-Tenant"
        case .connection: "X-SSE-Connection"
        case .channel, .broadcast: nil
        }
    }
}
