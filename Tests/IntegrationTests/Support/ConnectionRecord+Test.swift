import SSEFanout

extension ConnectionRecord {
    /// A record as a stream with these parameters would make it.
    static func test(
        _ id: String, node: String = "n1", user: String? = nil, tenant: String = "", session: String? = nil, clientID: String? = nil,
        channels: [String] = [], connectedAt: Int64 = 1_700_000_000_000
    ) -> ConnectionRecord {
        ConnectionRecord(connectionID: id, nodeID: node, connectedAt: connectedAt, addresses: ConnectionRecord.addresses(user: user, clientID: clientID, session: session, tenant: tenant, channels: channels))
    }
}
