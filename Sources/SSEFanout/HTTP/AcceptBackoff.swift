import Foundation
import NIOCore

/// Stops accepting for a moment when accept fails for want of resources (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM), on the listening channel. The connection stays in the listen backlog, so the socket stays
/// readable and the event loop would try again at once, taking a whole core for as long as the
/// shortage lasts. NIO's own `AcceptBackoffHandler` delays the next read request, but after a failed
/// accept the listening channel keeps its read pending and stays in the poll set, so it spins all the
/// same (swift-nio 2.101); turning `autoRead` off takes it out of the poll set until the pause ends.
final class AcceptBackoff: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private let pause: TimeAmount
    private let onShortage: (IOError) -> Void
    private var resuming: Scheduled<Void>?

    /// `onShortage` hears of every failed accept (to log it, rate-limited).
    init(pause: TimeAmount, onShortage: @escaping (IOError) -> Void) {
        self.pause = pause
        self.onShortage = onShortage
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode) else {
            return context.fireErrorCaught(error)
        }
        onShortage(error)
        guard resuming == nil, let options = context.channel.syncOptions else { return }
        try? options.setOption(.autoRead, value: false)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        resuming = context.eventLoop.scheduleTask(in: pause) {
            let (handler, context) = bound.value
            handler.resuming = nil
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        resuming?.cancel()
        resuming = nil
        context.fireChannelInactive()
    }
}
