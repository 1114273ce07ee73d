import NIOCore
import SSEClient

/// The pipeline of a `StallingConnection`: sends the GET, checks the response head, and parses the
/// raw body (the SSE stream itself: the server sends no chunked framing) into events for `output`,
/// which finishes when the connection does. Whether it reads at all is the channel's autoRead option.
final class StallingStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let headEnd: [UInt8] = Array("\r\n\r\n".utf8)
    private static let maximumHeadSize = 16 * 1024

    private let request: String
    private let output: AsyncThrowingStream<SSEEvent, any Error>.Continuation
    /// Response head bytes until the blank line; nil once the body started.
    private var head: ByteBuffer? = ByteBuffer()
    private var parser = SSEParser()

    init(request: String, output: AsyncThrowingStream<SSEEvent, any Error>.Continuation) {
        self.request = request
        self.output = output
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if head != nil {
            head!.writeBuffer(&bytes)
            guard let body = takeBody(context: context) else { return }
            bytes = body
        }
        for event in parser.feed(bytes) { output.yield(event) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        output.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        output.finish(throwing: error)
        context.close(promise: nil)
    }

    /// Once the whole response head is in `head`: checks for a 200 and returns the body bytes after it.
    private func takeBody(context: ChannelHandlerContext) -> ByteBuffer? {
        guard let buffered = head else { return nil }
        guard let end = buffered.readableBytesView.firstRange(of: Self.headEnd) else {
            if buffered.readableBytes > Self.maximumHeadSize {
                fail(StreamFailure("no end of the response head in \(buffered.readableBytes) bytes"), context: context)
            }
            return nil
        }
        let statusLine = String(decoding: buffered.readableBytesView.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        guard statusLine.hasPrefix("HTTP/1.1 200") || statusLine.hasPrefix("HTTP/1.0 200") else {
            fail(StreamFailure(statusLine), context: context)
            return nil
        }
        head = nil
        let bodyStart = end.upperBound - buffered.readableBytesView.startIndex
        return buffered.getSlice(at: buffered.readerIndex + bodyStart, length: buffered.readableBytes - bodyStart)
    }

    private func fail(_ failure: StreamFailure, context: ChannelHandlerContext) {
        head = nil
        output.finish(throwing: failure)
        context.close(promise: nil)
    }

    struct StreamFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
