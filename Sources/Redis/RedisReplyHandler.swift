import NIOCore

/// The inbound end of a `RedisConnection`'s channel: bytes in, replies out, through hiredis' parser.
/// Commands are written by the connection itself, already encoded.
final class RedisReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: RedisConnection
    private let reader = HiredisReader()
    /// Why the channel is closing, when it was an error.
    private var error: (any Error)?

    init(connection: RedisConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try reader.feed(unwrapInboundIn(data))
            while let reply = try reader.next() {
                connection.received(reply, on: context.channel)
            }
        } catch {
            connection.unreadable(error, on: context.channel)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.error = error
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.closed(context.channel, error: error)
        context.fireChannelInactive()
    }
}
