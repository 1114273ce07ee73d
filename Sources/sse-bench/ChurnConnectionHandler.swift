#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import NIOCore
import NIOHTTP1

/// One churn connection: sends the GET once connected, reads until the stream's `connected` event with a
/// `StreamOpening`, completes `done` with that moment (`NIODeadline.uptimeNanoseconds`), and closes.
final class ChurnConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let done: EventLoopPromise<UInt64>
    private let closeMode: ChurnCloseMode
    private var opening = StreamOpening(awaitConnected: true, readGreeting: false)
    private var finished = false

    init(request: HTTPRequestHead, closeMode: ChurnCloseMode, done: EventLoopPromise<UInt64>) {
        self.request = request
        self.closeMode = closeMode
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        switch opening.feed(unwrapInboundIn(data)) {
        case .needMore:
            return
        case .opened:
            finish(.success(NIODeadline.now().uptimeNanoseconds), context: context)
        case .failed(let error):
            finish(.failure(error), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            done.fail(BenchError.closedBeforeResponse)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error), context: context)
    }

    private func finish(_ result: Result<UInt64, any Error>, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
        if closeMode == .reset, let provider = context.channel as? any SocketOptionProvider {
            // SO_LINGER 0: close sends RST and leaves no TIME_WAIT behind.
            let channel = context.channel
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }
}
