/// An event's payload as the publisher gave it: text is sent as is, any other JSON value as compact JSON.
public enum EventData: Sendable, Hashable {
    case text(String)
    /// Compact JSON text of a non-string JSON value.
    case json(String)

    /// The text that goes into the SSE `data:` lines.
    public var sseText: String {
        switch self {
        case .text(let s), .json(let s): s
        }
    }

    /// Bytes of the payload's text, for sizing buffers.
    var byteCount: Int {
        switch self {
        case .text(let s), .json(let s): s.utf8.count
        }
    }
}
