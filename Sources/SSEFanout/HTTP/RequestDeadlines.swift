import NIOCore
import NIOHTTP1

/// Bounds how long a connection may take to say what it wants: a request's head and body must arrive
/// within `requestTimeout` (a slowloris client, or a body that never ends, is cut off), and a kept-alive
/// connection may wait `idleTimeout` for its next request. A body that stalls gets 408 (unless an answer
/// has begun already: a send the backend answered while its body still came); the rest are closed. It
/// goes with the other HTTP handlers when the connection becomes a stream, whose client then owes
/// nothing more.
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
        /// It answered 408 and closes the connection: an answer the node writes after that (a send that
        /// was being forwarded meanwhile) is dropped, as the client has its answer.
        case timedOut
    }

    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let onTimeout: @Sendable (String) -> Void
    private var phase = Phase.awaitingHead
    private var deadline: Scheduled<Void>?
    /// The current request's answer has begun: a 408 can no longer be put in front of it, only the close.
    private var answered = false

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
            answered = false
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
        if case .timedOut = phase {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head: answered = true
        case .body: break
        case .end:
            if case .answering = phase {
                phase = .awaitingHead
                arm(context, after: idleTimeout)
            }
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
        case .readingBody where answered:
            onTimeout("request body")
            context.close(promise: nil)
        case .readingBody(let version):
            onTimeout("request body")
            phase = .timedOut
            let body = JSONBody.error("request_timeout", "the request's body did not arrive in time")
            let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.count)), ("Connection", "close")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .requestTimeout, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        case .awaitingHead:
            onTimeout("request head")
            context.close(promise: nil)
        case .answering, .timedOut:
            break
        }
    }
}
