import NIOCore
import NIOHTTP1

/// One subscriber stream. Sends the GET once connected, reads the first bytes with a `StreamOpening`
/// until the stream is open, then scans the body for benchmark events with an `EventScanner` and records
/// them, all on the channel's event loop. Inbound bytes are read raw (no HTTP decoder): the body of an
/// SSE response is the stream itself.
final class SubscriberHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case opening
        case streaming
        case done
    }

    private let request: HTTPRequestHead
    private let opened: EventLoopPromise<StreamGreeting?>
    private let recorder: DeliveryRecorder
    private var state = State.opening
    private var opening: StreamOpening
    private var scanner = EventScanner()
    private var lastSequence: UInt64?

    /// `opened` succeeds once the stream is open (see `StreamOpening`), and fails if anything else happened first.
    init(request: HTTPRequestHead, opening: StreamOpening, opened: EventLoopPromise<StreamGreeting?>, recorder: DeliveryRecorder) {
        self.request = request
        self.opening = opening
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
        case .opening:
            switch opening.feed(bytes) {
            case .needMore:
                break
            case .opened(let greeting, let rest):
                state = .streaming
                opened.succeed(greeting)
                if let rest { scan(rest) }
            case .failed(let error):
                state = .done
                opened.fail(error)
                context.close(promise: nil)
            }
        case .done:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .opening:
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
        if case .opening = state {
            opened.fail(error)
            state = .done
        }
        context.close(promise: nil)
    }

    private func scan(_ bytes: ByteBuffer) {
        // One clock read per read from the socket: every event in it arrived at the same time.
        let now = NIODeadline.now().uptimeNanoseconds
        scanner.scan(bytes) { sequence, sentAt in
            let inOrder = lastSequence.map { sequence > $0 } ?? true
            lastSequence = sequence
            recorder.recordDelivery(receivedAt: now, latency: now >= sentAt ? now - sentAt : 0, inOrder: inOrder)
        }
    }
}
