import NIOCore
import NIOHTTP1

/// Sends one request on `HTTPConnector.StartRequest` and completes `promise` with the whole response,
/// however it is framed (Content-Length, chunked, or ended by the server closing), then closes the connection.
final class HTTPResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let requestBody: [UInt8]?
    private let promise: EventLoopPromise<HTTPResponse>
    private var started = false
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    init(request: HTTPRequestHead, body: [UInt8]?, promise: EventLoopPromise<HTTPResponse>) {
        self.request = request
        self.requestBody = body
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is HTTPConnector.StartRequest else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        started = true
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        if let requestBody, !requestBody.isEmpty {
            let buffer = context.channel.allocator.buffer(bytes: requestBody)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var chunk):
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            let response = HTTPResponse(
                status: Int(head.status.code),
                headers: head.headers.map { ($0.name, $0.value) },
                body: body.map { Array($0.readableBytesView) } ?? []
            )
            promise.succeed(response)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if started {
            promise.fail(SSEClientError.connectionClosed)  // No effect when the response already completed.
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The decoder reports a body cut short by the server closing as a parse error.
        if started {
            promise.fail(error as? HTTPParserError == .invalidEOFState ? SSEClientError.connectionClosed : error)
        }
        context.close(promise: nil)
    }
}
