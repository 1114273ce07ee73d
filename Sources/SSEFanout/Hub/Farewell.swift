import NIOCore

/// The last event of a stream the server ends on purpose, so the client can act on it: `disconnect`
/// (kicked, with whether to reconnect), `expired` (get a new token), or `close` (drain, replaced by a
/// newer stream of the same user). This is the seeds' `connect-close` with its `whoTriggerClose`.
enum Farewell {
    static func event(_ reason: CloseReason, message: String? = nil, reconnect: Bool) -> ByteBuffer {
        let name: String
        switch reason {
        case .kicked: name = "disconnect"
        case .expired: name = "expired"
        default: name = "close"
        }
        var data = #"{"reason":"#
        JSONString.append(message ?? reason.rawValue, to: &data)
        data += #","reconnect":\#(reconnect)}"#
        return SSEEncoder.encode(id: nil, event: name, data: data)
    }
}
