import NIOCore
import NIOHTTP1

/// Answers a request the HTTP decoder could not parse with a JSON error and closes the connection:
/// 431 for a head past `http.maxHeaderSize` or 100 fields, 400 for anything else malformed. It takes
/// the place of NIO's `HTTPServerProtocolErrorHandler`, whose 400 carries no body to say what was wrong.
final class ProtocolErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A response has begun: an answer can no longer be put in front of it, only the close.
    private var responding = false
    /// It answered and closes the connection: an answer the node writes after that (a send that was
    /// being forwarded meanwhile) is dropped.
    private var answered = false
    private let onError: (HTTPParserError) -> Void

    init(onError: @escaping (HTTPParserError) -> Void) {
        self.onError = onError
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        onError(error)
        guard !responding else {
            context.close(promise: nil)
            return
        }
        let tooLarge = error == .headerOverflow
        let body = tooLarge
            ? JSONBody.error("header_too_large", "the request head is too large or has too many fields")
            : JSONBody.error("bad_request", "the request is not valid HTTP/1.1 (\(error))")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        let status: HTTPResponseStatus = tooLarge ? .requestHeaderFieldsTooLarge : .badRequest
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        answered = true
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !answered else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head: responding = true
        case .end: responding = false
        case .body: break
        }
        context.write(data, promise: promise)
    }
}
