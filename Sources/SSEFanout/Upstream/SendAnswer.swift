import NIOCore
import NIOHTTP1

/// How a send or upload is answered.
enum SendAnswer: Sendable {
    /// The node's own answer: `202 {"id"}`, or `200 {"id", "duplicate": true}`.
    case node(HTTPResponseStatus, [UInt8])
    /// The backend's answer, passed on as it is.
    case upstream(HTTPResponseStatus, contentType: String?, body: ByteBuffer)
    case refused(SendRefusal)
}
