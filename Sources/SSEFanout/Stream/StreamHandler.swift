import Logging
import NIOCore
import NIOHTTP1

/// Serves a connection once it is an event stream, in place of the HTTP handlers: a stream's client
/// has nothing more to say, so its bytes are dropped unparsed, and the stream is detached when the
/// connection closes. An idle stream then keeps no HTTP parser state.
final class StreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let streams: StreamOpener
    private let stream: SSEConnection
    private let logger: Logger

    init(streams: StreamOpener, stream: SSEConnection, logger: Logger) {
        self.streams = streams
        self.stream = stream
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelInactive(context: ChannelHandlerContext) {
        streams.detach(stream)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        stream.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // The request decoder, on its way out, may still parse bytes that came in one read with the
        // request, and choke on them: those are dropped like any others.
        if error is HTTPParserError { return }
        // A reset ends this stream only.
        logger.debug("stream connection error", metadata: ["connection": "\(stream.id)", "error": "\(error)"])
        context.close(promise: nil)
    }
}
