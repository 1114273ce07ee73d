import NIOCore
import NIOHTTP1

/// Bounds how long a connection may take to say what it wants: a request's head and body must arrive
/// within `requestTimeout` (a slowloris client, or a body that never ends, is cut off), and a kept-alive
/// connection may wait `idleTimeout` for its next request. A body that stalls gets 408; the rest are
/// closed. It goes with the other HTTP handlers when the connection becomes a stream, whose client then
/// owes nothing more.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        /// Waiting for a request's head (the first, or the next on a kept-alive connection).
        case awaitingHead
        /// The head arrived; its body is on its way.
        case readingBody(HTTPVersion)
        /// The request is complete; the node is answering it.
        case answering
    }

    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let onTimeout: @Sendable (String) -> Void
    private var phase = Phase.awaitingHead
    private var deadline: Scheduled<Void>?

    init(requestTimeout: TimeAmount, idleTimeout: TimeAmount, onTimeout: @escaping @Sendable (String) -> Void) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context, after: requestTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            phase = .readingBody(head.version)
            arm(context, after: requestTimeout)
        case .body:
            break
        case .end:
            phase = .answering
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), case .answering = phase {
            phase = .awaitingHead
            arm(context, after: idleTimeout)
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, after timeout: TimeAmount) {
        deadline?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            handler.expire(context)
        }
    }

    private func expire(_ context: ChannelHandlerContext) {
        deadline = nil
        switch phase {
        case .readingBody(let version):
            onTimeout("request body")
            let body = JSONBody.error("request_timeout", "the request's body did not arrive in time")
            let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.count)), ("Connection", "close")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .requestTimeout, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        case .awaitingHead:
            onTimeout("request head")
            context.close(promise: nil)
        case .answering:
            break
        }
    }
}
