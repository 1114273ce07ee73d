/// What the cluster knows about one SSE connection: the registry stores it, the hub routes by it.
public struct ConnectionRecord: Sendable, Hashable {
    public var connectionID: String
    public var nodeID: String
    /// The authenticated user (with authentication off: the declared one), if any. Anonymous
    /// connections get channel, tenant, broadcast and connection-addressed events only.
    public var user: String?
    /// The tenant the connection belongs to; "" is the default tenant.
    public var tenant: String
    /// The login it belongs to (a token's `sid`): every tab and device of one sign-in.
    public var session: String?
    /// The device or tab id the client chose (`clientId`).
    public var clientID: String?
    public var channels: [String]
    /// Milliseconds since 1970.
    public var connectedAt: Int64

    public init(
        connectionID: String, nodeID: String, user: String?, tenant: String = "", session: String? = nil, clientID: String?,
        channels: [String], connectedAt: Int64
    ) {
        self.connectionID = connectionID
        self.nodeID = nodeID
        self.user = user
        self.tenant = tenant
        self.session = session
        self.clientID = clientID
        self.channels = channels
        self.connectedAt = connectedAt
    }

    /// Every address this connection answers to besides its own connection id and broadcast, in a
    /// stable order: its user, session, device, tenant, then its channels.
    public var addresses: [Address] {
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

    /// The history streams the connection reads, in the order its resume token lists them.
    public var streams: [Address] {
        var streams = addresses
        streams.insert(.broadcast, at: streams.firstIndex { $0.kind == .channel } ?? streams.endIndex)
        return streams
    }
}
