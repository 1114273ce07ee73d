import NIOCore
import NIOHTTP1

/// One subscriber stream. Sends the GET once connected, checks the response head for a 200, then scans
/// the body for benchmark events with an `EventScanner` and records them, all on the channel's event loop.
/// Inbound bytes are read raw (no HTTP decoder): the body of an SSE response is the stream itself.
final class SubscriberHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = HTTPClientRequestPart

    /// The status line and headers of a response are far smaller than this.
    private static let maximumHeadSize = 16 * 1024
    private static let headEnd: [UInt8] = Array("\r\n\r\n".utf8)

    private enum State {
        case awaitingHead(ByteBuffer?)
        case streaming
        case done
    }

    private let request: HTTPRequestHead
    private let opened: EventLoopPromise<Void>
    private let recorder: DeliveryRecorder
    private var state = State.awaitingHead(nil)
    private var scanner = EventScanner()
    private var lastSequence: UInt64?

    /// `opened` succeeds when a 200 response head arrived, and fails if anything else happened first.
    init(request: HTTPRequestHead, opened: EventLoopPromise<Void>, recorder: DeliveryRecorder) {
        self.request = request
        self.opened = opened
        self.recorder = recorder
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        switch state {
        case .streaming:
            scan(bytes)
        case .awaitingHead(var head):
            state = .done  // out of the enum while appending, so the buffer is not copied
            if head == nil {
                head = bytes
            } else {
                var more = bytes
                head!.writeBuffer(&more)
            }
            readHead(head!, context: context)
        case .done:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .awaitingHead:
            opened.fail(BenchError.closedBeforeResponse)
        case .streaming:
            recorder.recordStreamClosed()
        case .done:
            break
        }
        state = .done
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .awaitingHead = state {
            opened.fail(error)
            state = .done
        }
        context.close(promise: nil)
    }

    private func readHead(_ head: ByteBuffer, context: ChannelHandlerContext) {
        guard let end = head.readableBytesView.firstRange(of: Self.headEnd) else {
            if head.readableBytes > Self.maximumHeadSize {
                fail(BenchError.badResponse("no end of the response head in \(head.readableBytes) bytes"), context: context)
            } else {
                state = .awaitingHead(head)
            }
            return
        }
        let statusLine = head.readableBytesView.prefix { $0 != UInt8(ascii: "\r") }
        let text = String(decoding: statusLine, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200 ") || text.hasPrefix("HTTP/1.0 200 ") else {
            fail(BenchError.badResponse(text), context: context)
            return
        }
        state = .streaming
        opened.succeed(())
        let bodyStart = end.upperBound - head.readableBytesView.startIndex
        if let body = head.getSlice(at: head.readerIndex + bodyStart, length: head.readableBytes - bodyStart), body.readableBytes > 0 {
            scan(body)
        }
    }

    private func scan(_ bytes: ByteBuffer) {
        // One clock read per read from the socket: every event in it arrived at the same time.
        let now = NIODeadline.now().uptimeNanoseconds
        scanner.scan(bytes) { sequence, sentAt in
            let inOrder = lastSequence.map { sequence > $0 } ?? true
            lastSequence = sequence
            recorder.recordDelivery(latency: now >= sentAt ? now - sentAt : 0, inOrder: inOrder)
        }
    }

    private func fail(_ error: BenchError, context: ChannelHandlerContext) {
        state = .done
        opened.fail(error)
        context.close(promise: nil)
    }
}
