import NIOCore

/// Stops accepting while the node holds as many connections as its file descriptors allow, less a
/// reserve, and accepts again as they close. A process must never run out of descriptors: besides
/// the connections it could no longer make (Redis, RabbitMQ, the JWKS URL), libdispatch, which runs
/// Swift's concurrency on Linux, reads `/proc/<thread>/stat` every second while work is queued and
/// aborts the process (SIGILL) when that open fails. Kept on the listening channel: with `autoRead`
/// off it leaves the poll set, and what waits in the listen backlog waits without costing a core.
final class ConnectionCap: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    /// The most connections held at once.
    let maximum: Int
    private let onFull: (_ open: Int) -> Void
    private var open = 0
    private var paused = false

    /// `onFull` hears each time accepting pauses (to log it, rate-limited).
    init(maximum: Int, onFull: @escaping (_ open: Int) -> Void) {
        self.maximum = maximum
        self.onFull = onFull
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        open += 1
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        // The child lives on its own loop; the count on the listener's.
        child.closeFuture.whenComplete { _ in
            loop.execute {
                let (cap, context) = bound.value
                cap.closed(context: context)
            }
        }
        if open >= maximum, !paused {
            paused = true
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
            onFull(open)
        }
        context.fireChannelRead(data)
    }

    private func closed(context: ChannelHandlerContext) {
        open -= 1
        // A little below the top before accepting again, so that one close does not wake the listener
        // for one accept each time.
        if paused, open < maximum - max(1, maximum / 64) || open == 0 {
            paused = false
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }
}
