/// One replayable sequence of events: a user's, a channel's, or the broadcast one.
/// Connection-addressed events belong to no stream (they are not kept).
public enum HistoryStream: Sendable, Hashable {
    case user(String)
    case channel(String)
    case broadcast

    /// The stream a target's events are kept in, if any.
    public init?(_ target: Target) {
        switch target {
        case .user(let id): self = .user(id)
        case .channel(let name): self = .channel(name)
        case .broadcast: self = .broadcast
        case .connection: return nil
        }
    }

    /// The Redis key suffix: `user:<id>`, `channel:<name>`, `broadcast`.
    var keySuffix: String {
        switch self {
        case .user(let id): "user:\(id)"
        case .channel(let name): "channel:\(name)"
        case .broadcast: "broadcast"
        }
    }

    /// The short tag a resume token names the stream by: `u`, `b`, or `c` + a hash of the channel name.
    var tag: String {
        switch self {
        case .user: "u"
        case .broadcast: "b"
        case .channel(let name): "c" + String(Self.fnv1a(name), radix: 36)
        }
    }

    /// The streams a connection reads, in a stable order.
    static func streams(user: String?, channels: [String]) -> [HistoryStream] {
        var streams: [HistoryStream] = []
        if let user { streams.append(.user(user)) }
        streams.append(.broadcast)
        streams.append(contentsOf: channels.map { .channel($0) })
        return streams
    }

    private static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }
}
