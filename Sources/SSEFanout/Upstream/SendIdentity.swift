/// Who sent a send or an upload, as the backend is told: from the token (or, with authentication off,
/// the query), the `X-SSE-Client` header, and a connection the registry confirmed is the sender's.
struct SendIdentity: Sendable, Equatable {
    var user: String?
    /// "" is the default tenant.
    var tenant = ""
    var session: String?
    var clientID: String?
    /// Set only once the registry said this connection is the same user's, in the same tenant.
    var connectionID: String?

    /// The sender's addresses: its user, device, session and tenant. Unlike a stream's, a sender's device
    /// is named without a user too (authentication off, no `user=`): the backend is told its id.
    var addresses: [Address] {
        var addresses = ConnectionRecord.addresses(user: user, clientID: clientID, session: session, tenant: tenant)
        if user == nil, let clientID { addresses.insert(.client(user: "", id: clientID, tenant: tenant), at: 0) }
        return addresses
    }

    /// The headers that name the sender (`ConnectionCodec.senderHeaders`).
    var headers: [(name: String, value: String)] {
        ConnectionCodec.senderHeaders(addresses, tenant: tenant, connectionID: connectionID)
    }

    /// Whether `record` (a registered connection) belongs to this sender.
    func owns(_ record: ConnectionRecord) -> Bool {
        record.user == user && record.tenant == tenant
    }
}
