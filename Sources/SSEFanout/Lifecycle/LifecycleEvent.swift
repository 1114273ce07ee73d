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
    /// The connection whose opening or closing this is (for user and channel events: the one that
    /// made the transition).
    public var record: ConnectionRecord
    /// For channel events: the channel.
    public var channel: String?
    /// For closes, offline and vacated: why the connection ended.
    public var reason: CloseReason?
    /// The registry's order of presence changes (`PresenceChange.sequence`): the events of one change
    /// share it, and a user's online and offline alternate in this order.
    public var sequence: Int64
    /// When the node published it (ms since 1970).
    public var time: Int64

    public init(kind: Kind, record: ConnectionRecord, channel: String? = nil, reason: CloseReason? = nil, sequence: Int64, time: Int64) {
        self.kind = kind
        self.record = record
        self.channel = channel
        self.reason = reason
        self.sequence = sequence
        self.time = time
    }

    /// The events one registry write makes, in the order they are published: the connection's own,
    /// then the user's, then each channel's. `reason` nil: an opening.
    public static func events(for record: ConnectionRecord, _ change: PresenceChange, reason: CloseReason?, time: Int64) -> [LifecycleEvent] {
        guard change.changed else { return [] }
        let closing = reason != nil
        var events = [LifecycleEvent(kind: closing ? .connectionClosed : .connectionOpened, record: record, reason: reason, sequence: change.sequence, time: time)]
        if change.userTransition, record.user != nil {
            events.append(LifecycleEvent(kind: closing ? .userOffline : .userOnline, record: record, reason: reason, sequence: change.sequence, time: time))
        }
        for channel in change.channels {
            events.append(LifecycleEvent(
                kind: closing ? .channelVacated : .channelOccupied, record: record, channel: channel, reason: reason, sequence: change.sequence, time: time))
        }
        return events
    }

    /// The JSON body; fields that do not apply are left out. Written by hand: one is published per
    /// stream opened and closed.
    public func encode() -> [UInt8] {
        var json = #"{"event":"#
        JSONBody.appendString(kind.rawValue, to: &json)
        if let user = record.user {
            json += #","user":"#
            JSONBody.appendString(user, to: &json)
        }
        json += #","tenant":"#
        JSONBody.appendString(record.tenant, to: &json)
        if let session = record.session {
            json += #","session":"#
            JSONBody.appendString(session, to: &json)
        }
        if let clientID = record.clientID {
            json += #","clientId":"#
            JSONBody.appendString(clientID, to: &json)
        }
        json += #","connectionId":"#
        JSONBody.appendString(record.connectionID, to: &json)
        switch kind {
        case .connectionOpened, .connectionClosed:
            json += #","channels":"#
            JSONBody.appendStrings(record.channels, to: &json)
        case .channelOccupied, .channelVacated:
            json += #","channel":"#
            JSONBody.appendString(channel ?? "", to: &json)
            json += #","channels":"#
            JSONBody.appendStrings([channel ?? ""], to: &json)
        case .userOnline, .userOffline:
            break
        }
        json += #","node":"#
        JSONBody.appendString(record.nodeID, to: &json)
        json += #","time":\#(time),"seq":\#(sequence)"#
        if let reason {
            json += #","reason":"#
            JSONBody.appendString(reason.rawValue, to: &json)
        }
        json += "}"
        return Array(json.utf8)
    }
}
