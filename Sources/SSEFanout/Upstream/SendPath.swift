/// The `<path>` of `POST /send/<path>` and `/upload/<path>`: where the backend files the send. It
/// becomes the routing key on `sse.upstream` (`chat/room-1` → `chat.room-1`) and the path under the
/// upstream URL, so it is kept to characters that need no escaping in either. A `.` would make two paths
/// one routing key (`a.b` and `a/b`), so it is refused.
struct SendPath: Sendable, Equatable {
    /// At most one AMQP short string: the routing key is as long as the path.
    static let maxLength = 255

    let value: String

    /// 1…255 bytes of `A-Z a-z 0-9 _ ~ / -`, made of non-empty segments; nil otherwise.
    init?(_ raw: Substring) {
        let bytes = raw.utf8
        guard !bytes.isEmpty, bytes.count <= Self.maxLength, bytes.allSatisfy(Self.isAllowed) else { return nil }
        for segment in raw.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty else { return nil }
        }
        value = String(raw)
    }

    /// The routing key on `sse.upstream`: segments joined by `.` instead of `/`.
    var routingKey: String { String(value.map { $0 == "/" ? "." : $0 }) }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"), UInt8(ascii: "-"): true
        default: false
        }
    }
}
