import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP backend on 127.0.0.1 for the upstream tests: it keeps every request it gets, and
/// answers each with what `answer` returns (which may wait, to hold a request in flight).
final class TestBackend: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    struct Answer: Sendable {
        var status: HTTPResponseStatus
        var contentType: String?
        var body: [UInt8]
    }

    let port: Int
    private let channel: any Channel
    private let received: NIOLockedValueBox<[Request]>

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { received.withLockedValue { $0 } }

    private init(channel: any Channel, received: NIOLockedValueBox<[Request]>) {
        self.port = channel.localAddress!.port!
        self.channel = channel
        self.received = received
    }

    static func start(answer: @escaping @Sendable (Request) async -> Answer) async throws -> TestBackend {
        let received = NIOLockedValueBox<[Request]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(Handler(received: received, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TestBackend(channel: channel, received: received)
    }

    func stop() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let received: NIOLockedValueBox<[Request]>
        private let answer: @Sendable (Request) async -> Answer
        private var request: Request?

        init(received: NIOLockedValueBox<[Request]>, answer: @escaping @Sendable (Request) async -> Answer) {
            self.received = received
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                request = Request(method: head.method, uri: head.uri, headers: head.headers, body: [])
            case .body(let chunk):
                request?.body += chunk.readableBytesView
            case .end:
                guard let request else { return }
                self.request = nil
                received.withLockedValue { $0.append(request) }
                let answer = self.answer
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.makeFutureWithTask { await answer(request) }.whenSuccess { answer in
                    let (handler, context) = bound.value
                    var headers = HTTPHeaders([("Content-Length", String(answer.body.count))])
                    if let contentType = answer.contentType { headers.add(name: "Content-Type", value: contentType) }
                    context.write(handler.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
                    context.write(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: answer.body)))), promise: nil)
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }
}
