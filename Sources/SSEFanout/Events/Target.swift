/// Who an event is for. Each case resolves to the nodes that hold matching connections.
public enum Target: Sendable, Hashable {
    case connection(String)
    case user(String)
    case channel(String)
    case broadcast

    public var typeName: String {
        switch self {
        case .connection: "connection"
        case .user: "user"
        case .channel: "channel"
        case .broadcast: "broadcast"
        }
    }

    public var id: String? {
        switch self {
        case .connection(let id), .user(let id), .channel(let id): id
        case .broadcast: nil
        }
    }

    public static let typeNames = ["connection", "user", "channel", "broadcast"]
}
