import NIOCore
import NIOHTTP1

/// Sends `PipelinedRequest`s on one keep-alive connection without waiting for earlier answers (HTTP/1.1
/// pipelining: sse-fanout answers in order) and completes each request's promise with its response status,
/// first in, first out. A connection that closes, errs or leaves its oldest request unanswered for `timeout`
/// fails everything waiting and is closed.
final class PipelinedRequestHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = PipelinedRequest
    typealias OutboundOut = HTTPClientRequestPart

    private struct Waiting {
        let status: EventLoopPromise<Int>
        let sentAt: NIODeadline
    }

    private let timeout: TimeAmount
    private var waiting = CircularBuffer<Waiting>()
    private var responseStatus: Int?
    private var watchdog: RepeatedTask?
    private var failure: (any Error)?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        // One check a second for the whole connection, rather than a timer per request.
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            let (handler, context) = loopBound.value
            handler.checkOldest(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watchdog?.cancel()
        failAll(BenchError.closedBeforeResponse)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.status.fail(failure)
            promise?.fail(failure)
            return
        }
        waiting.append(Waiting(status: request.status, sentAt: .now()))
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            responseStatus = Int(head.status.code)
        case .body:
            break
        case .end:
            guard let status = responseStatus, let oldest = waiting.popFirst() else { return }
            responseStatus = nil
            oldest.status.succeed(status)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(BenchError.closedBeforeResponse, context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    private func checkOldest(context: ChannelHandlerContext) {
        if let oldest = waiting.first, NIODeadline.now() - oldest.sentAt > timeout {
            fail(BenchError.openTimeout(seconds: Int(timeout.nanoseconds / 1_000_000_000)), context: context)
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        failure = failure ?? error
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let request = waiting.popFirst() {
            request.status.fail(error)
        }
    }
}
