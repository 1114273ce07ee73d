/// What the cluster knows about one SSE connection: the registry stores it, the hub routes by it.
///
/// Who it is and what it reads is one list of addresses (its user, device, session, tenant and
/// channels); `ConnectionCodec` writes and reads it everywhere it leaves the process.
public struct ConnectionRecord: Sendable, Hashable {
    public var connectionID: String
    public var nodeID: String
    /// Milliseconds since 1970.
    public var connectedAt: Int64
    /// When the stream's credential runs out and the stream is closed (ms since 1970); nil without one.
    public var expiresAt: Int64?
    /// Every address this connection answers to besides its own connection id and broadcast, all in
    /// its tenant, in a stable order: its user, device, session, tenant (none for the default tenant),
    /// then its channels. Anonymous connections have no user: they get channel, tenant, broadcast and
    /// connection-addressed events only.
    public var addresses: [Address]

    public init(connectionID: String, nodeID: String, connectedAt: Int64, expiresAt: Int64? = nil, addresses: [Address]) {
        self.connectionID = connectionID
        self.nodeID = nodeID
        self.connectedAt = connectedAt
        self.expiresAt = expiresAt
        self.addresses = addresses
    }

    /// The tenant the connection belongs to; "" is the default tenant. Every address of it lives there.
    public var tenant: String { addresses.first?.tenant ?? "" }

    /// Its one address of `kind` (user, client, session, tenant), if it has one.
    public func address(_ kind: Address.Kind) -> Address? {
        addresses.first { $0.kind == kind }
    }

    /// The authenticated user (with authentication off: the declared one), if any.
    public var user: String? { address(.user)?.id }
    /// The login it belongs to (a token's `sid`): every tab and device of one sign-in.
    public var session: String? { address(.session)?.id }
    /// The device or tab id the client chose (`clientId`).
    public var clientID: String? { address(.client)?.name }
    public var channels: [String] { addresses.compactMap { $0.kind == .channel ? $0.id : nil } }

    /// The history streams the connection reads, in the order its resume token lists them.
    public var streams: [Address] {
        var streams = addresses
        streams.insert(.broadcast, at: streams.firstIndex { $0.kind == .channel } ?? streams.endIndex)
        return streams
    }

    /// The addresses of a connection of `user` (with device `clientID`), `session` and `tenant` that
    /// reads `channels`, in the order `addresses` keeps: how a stream's query or token, and a hash the
    /// previous release wrote, become addresses.
    public static func addresses(
        user: String?, clientID: String? = nil, session: String? = nil, tenant: String = "", channels: [String] = []
    ) -> [Address] {
        var addresses: [Address] = []
        addresses.reserveCapacity(channels.count + 4)
        if let user {
            addresses.append(.user(user, tenant: tenant))
            if let clientID { addresses.append(.client(user: user, id: clientID, tenant: tenant)) }
        }
        if let session { addresses.append(.session(session, tenant: tenant)) }
        if !tenant.isEmpty { addresses.append(.tenant(tenant)) }
        for channel in channels { addresses.append(.channel(channel, tenant: tenant)) }
        return addresses
    }
}
