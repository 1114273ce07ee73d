import NIOCore
import NIOHTTP1

/// Answers one request from whatever thread its answer is ready on: the response is written on the
/// connection's loop (`HTTPHandler.write`), with the CORS headers the request earned.
struct HTTPResponder: Sendable {
    let head: HTTPRequestHead
    private let connection: NIOLoopBound<(HTTPHandler, ChannelHandlerContext)>

    init(head: HTTPRequestHead, handler: HTTPHandler, context: ChannelHandlerContext) {
        self.head = head
        self.connection = NIOLoopBound((handler, context), eventLoop: context.eventLoop)
    }

    /// A JSON body, or none.
    func respond(_ status: HTTPResponseStatus, _ json: [UInt8]?, headers: [(String, String)] = [], close: Bool = false) {
        onLoop { handler, context in
            let body = json.map { context.channel.allocator.buffer(bytes: $0) }
            handler.write(context, head, status, body, contentType: "application/json", extraHeaders: headers, close: close)
        }
    }

    func respond(_ status: HTTPResponseStatus, body: ByteBuffer?, contentType: String, headers: [(String, String)] = [], close: Bool = false) {
        onLoop { handler, context in
            handler.write(context, head, status, body, contentType: contentType, extraHeaders: headers, close: close)
        }
    }

    private func onLoop(_ body: @escaping (HTTPHandler, ChannelHandlerContext) -> Void) {
        let connection = self.connection
        if connection.eventLoop.inEventLoop {
            let (handler, context) = connection.value
            body(handler, context)
        } else {
            connection.eventLoop.execute {
                let (handler, context) = connection.value
                body(handler, context)
            }
        }
    }
}
