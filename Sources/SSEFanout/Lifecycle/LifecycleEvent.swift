/// One lifecycle event, as nodes publish it to `sse.lifecycle` (README, "Lifecycle events"): the
/// routing key is `kind`'s name, the body a JSON object.
public struct LifecycleEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case connectionOpened = "connection.opened"
        case connectionClosed = "connection.closed"
        /// The user's first connection anywhere in the cluster opened.
        case userOnline = "user.online"
        /// The user's last connection anywhere in the cluster closed.
        case userOffline = "user.offline"
        /// A channel's first subscriber anywhere in the cluster arrived.
        case channelOccupied = "channel.occupied"
        /// A channel's last subscriber anywhere in the cluster left.
        case channelVacated = "channel.vacated"
    }

    public var kind: Kind
    /// The connection whose opening or closing this is (for occupancy events: the one that made the
    /// transition).
    public var record: ConnectionRecord
    /// For occupancy events (`Address.Kind.occupancyEvents`: a user online or offline, a channel
    /// occupied or vacated): the address whose first or last connection it was.
    public var address: Address?
    /// For closes, offline and vacated: why the connection ended.
    public var reason: CloseReason?
    /// The registry's order of presence changes (`PresenceChange.sequence`): the events of one change
    /// share it, and a user's online and offline alternate in this order.
    public var sequence: Int64
    /// When the node published it (ms since 1970).
    public var time: Int64

    public init(kind: Kind, record: ConnectionRecord, address: Address? = nil, reason: CloseReason? = nil, sequence: Int64, time: Int64) {
        self.kind = kind
        self.record = record
        self.address = address
        self.reason = reason
        self.sequence = sequence
        self.time = time
    }

    /// The events one registry write makes, in the order they are published: the connection's own,
    /// then one per address whose first (last) connection it was, in the connection's order (its
    /// user's, then each channel's). `reason` nil: an opening.
    public static func events(for record: ConnectionRecord, _ change: PresenceChange, reason: CloseReason?, time: Int64) -> [LifecycleEvent] {
        guard change.changed else { return [] }
        let closing = reason != nil
        var events = [LifecycleEvent(kind: closing ? .connectionClosed : .connectionOpened, record: record, reason: reason, sequence: change.sequence, time: time)]
        for address in change.occupancy {
            guard let kinds = address.kind.occupancyEvents else { continue }
            events.append(LifecycleEvent(
                kind: closing ? kinds.last : kinds.first, record: record, address: address, reason: reason, sequence: change.sequence, time: time))
        }
        return events
    }

    /// The JSON body: the connection's identity (`ConnectionCodec`; fields that do not apply are left
    /// out). An event about one of the addresses a connection holds several of names it alone: a
    /// channel event carries `"channel"` and `"channels": [channel]`, and no other channels. Written by
    /// hand: one is published per stream opened and closed.
    public func encode() -> [UInt8] {
        var json = #"{"event":"#
        JSONString.append(kind.rawValue, to: &json)
        json += #","connectionId":"#
        JSONString.append(record.connectionID, to: &json)
        // An occupancy event names its address alone, not the rest of what the connection reads.
        let aboutConnection = kind == .connectionOpened || kind == .connectionClosed
        ConnectionCodec.appendIdentity(
            record.addresses, tenant: record.tenant, absent: .omitted, without: aboutConnection ? [] : ConnectionCodec.severalKinds, to: &json)
        if let address, let eventField = address.kind.eventField, let field = address.kind.field {
            json += #",""# + eventField + #"":"#
            JSONString.append(address.name, to: &json)
            json += #",""# + field.name + #"":"#
            JSONString.appendArray([address.name], to: &json)
        }
        json += #","node":"#
        JSONString.append(record.nodeID, to: &json)
        json += #","time":\#(time),"seq":\#(sequence)"#
        if let reason {
            json += #","reason":"#
            JSONString.append(reason.rawValue, to: &json)
        }
        json += "}"
        return Array(json.utf8)
    }
}
