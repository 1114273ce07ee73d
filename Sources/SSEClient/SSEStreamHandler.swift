import NIOCore
import NIOHTTP1

/// Sends the SSE request on `HTTPConnector.StartRequest`, completes `headPromise` with the 200 response
/// head, then parses the body on the event loop and delivers events to the inbox until the response or
/// connection ends.
/// A non-200 response fails `headPromise` with `SSEClientError.unexpectedStatus` carrying its body.
final class SSEStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// An error body is only for diagnostics; stop reading it at this size rather than waiting for its end.
    static let maximumErrorBodySize = 64 * 1024

    private enum State {
        case idle
        case awaitingHead
        case streaming
        case readingErrorBody(status: Int, body: ByteBuffer)
        case done
    }

    private let request: HTTPRequestHead
    private let headPromise: EventLoopPromise<HTTPResponseHead>
    private let inbox: SSEEventInbox
    private var parser = SSEParser()
    private var state = State.idle

    init(request: HTTPRequestHead, headPromise: EventLoopPromise<HTTPResponseHead>, inbox: SSEEventInbox) {
        self.request = request
        self.headPromise = headPromise
        self.inbox = inbox
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is HTTPConnector.StartRequest, case .idle = state else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        state = .awaitingHead
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead):
            if head.status == .ok {
                state = .streaming
                headPromise.succeed(head)
            } else {
                let body = context.channel.allocator.buffer(capacity: 0)
                state = .readingErrorBody(status: Int(head.status.code), body: body)
            }

        case (.body(let chunk), .streaming):
            let events = parser.feed(chunk)
            inbox.deliver(events, commentCount: parser.commentCount, reconnectionTime: parser.reconnectionTime)

        case (.body(var chunk), .readingErrorBody(let status, var body)):
            state = .done  // Leave the enum while mutating `body` so the buffer is not copied.
            body.writeBuffer(&chunk)
            if body.readableBytes >= Self.maximumErrorBodySize {
                failHead(status: status, body: body, context: context)
            } else {
                state = .readingErrorBody(status: status, body: body)
            }

        case (.end, .streaming):
            state = .done
            inbox.finish()
            context.close(promise: nil)

        case (.end, .readingErrorBody(let status, let body)):
            failHead(status: status, body: body, context: context)

        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .awaitingHead:
            headPromise.fail(SSEClientError.connectionClosed)
        case .streaming:
            inbox.finish()
        case .readingErrorBody(let status, let body):
            failHead(status: status, body: body, context: context)
        case .idle, .done:
            break
        }
        state = .done
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .awaitingHead:
            // The decoder reports a head cut short by the server closing as a parse error.
            headPromise.fail(error as? HTTPParserError == .invalidEOFState ? SSEClientError.connectionClosed : error)
        case .readingErrorBody(let status, let body):
            failHead(status: status, body: body, context: context)
        case .streaming:
            // A chunked or sized body cut short by the server closing ends the stream like a close-delimited
            // body does: either way the server closed the connection.
            if error as? HTTPParserError == .invalidEOFState {
                inbox.finish()
            } else {
                inbox.finish(throwing: error)
            }
        case .idle, .done:
            break
        }
        state = .done
        context.close(promise: nil)
    }

    private func failHead(status: Int, body: ByteBuffer, context: ChannelHandlerContext) {
        state = .done
        let text = String(decoding: body.readableBytesView.prefix(Self.maximumErrorBodySize), as: UTF8.self)
        headPromise.fail(SSEClientError.unexpectedStatus(status, text))
        context.close(promise: nil)
    }
}
