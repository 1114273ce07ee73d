import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP backend on 127.0.0.1 for the upstream tests: it keeps every request it gets, and
/// answers each with what `answer` returns (which may wait, to hold a request in flight). While a
/// request arrives, its `Arrival` says how much of its body came and whether it ended or was cut off.
final class TestBackend: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// A request as it arrives.
    struct Arrival: Sendable {
        var uri: String
        var headers: HTTPHeaders
        var bytes = 0
        /// The body's end arrived.
        var ended = false
        /// The connection closed before the body's end.
        var aborted = false
    }

    struct Answer: Sendable {
        var status: HTTPResponseStatus
        var contentType: String?
        var body: [UInt8]
    }

    let port: Int
    private let channel: any Channel
    private let received: NIOLockedValueBox<[Request]>
    private let arrivals: Arrivals

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { received.withLockedValue { $0 } }

    private init(channel: any Channel, received: NIOLockedValueBox<[Request]>, arrivals: Arrivals) {
        self.port = channel.localAddress!.port!
        self.channel = channel
        self.received = received
        self.arrivals = arrivals
    }

    /// Waits until the request to `uri` arrived and `condition` holds for it, and returns it.
    func arrival(_ uri: String, timeout: Duration = .seconds(10), where condition: @escaping @Sendable (Arrival) -> Bool) async throws -> Arrival {
        try await arrivals.wait(uri, timeout: timeout, condition)
    }

    /// The request to `uri` as it is now, if it arrived.
    func arrival(_ uri: String) -> Arrival? { arrivals.current(uri) }

    static func start(answer: @escaping @Sendable (Request) async -> Answer) async throws -> TestBackend {
        let received = NIOLockedValueBox<[Request]>([])
        let arrivals = Arrivals()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(Handler(received: received, arrivals: arrivals, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return TestBackend(channel: channel, received: received, arrivals: arrivals)
    }

    func stop() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let received: NIOLockedValueBox<[Request]>
        private let arrivals: Arrivals
        private let answer: @Sendable (Request) async -> Answer
        private var request: Request?

        init(received: NIOLockedValueBox<[Request]>, arrivals: Arrivals, answer: @escaping @Sendable (Request) async -> Answer) {
            self.received = received
            self.arrivals = arrivals
            self.answer = answer
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let request { arrivals.update(request.uri) { $0.aborted = true } }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                request = Request(method: head.method, uri: head.uri, headers: head.headers, body: [])
                arrivals.start(Arrival(uri: head.uri, headers: head.headers))
            case .body(let chunk):
                request?.body += chunk.readableBytesView
                if let request { arrivals.update(request.uri) { $0.bytes += chunk.readableBytes } }
            case .end:
                guard let request else { return }
                self.request = nil
                arrivals.update(request.uri) { $0.ended = true }
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

    /// The requests as they arrive (the latest to each URI), and the tests waiting on them.
    private final class Arrivals: Sendable {
        private struct State {
            var arrivals: [String: Arrival] = [:]
            var watchers: [Int: (uri: String, updates: AsyncStream<Arrival>.Continuation)] = [:]
            var nextWatcher = 0
        }

        private let state = NIOLockedValueBox(State())

        func start(_ arrival: Arrival) {
            publish(arrival.uri) { $0 = arrival }
        }

        func update(_ uri: String, _ change: (inout Arrival) -> Void) {
            publish(uri) { if $0 != nil { change(&$0!) } }
        }

        func current(_ uri: String) -> Arrival? {
            state.withLockedValue { $0.arrivals[uri] }
        }

        func wait(_ uri: String, timeout: Duration, _ condition: @escaping @Sendable (Arrival) -> Bool) async throws -> Arrival {
            let (updates, continuation) = AsyncStream<Arrival>.makeStream()
            let id = state.withLockedValue { state in
                let id = state.nextWatcher
                state.nextWatcher += 1
                state.watchers[id] = (uri, continuation)
                if let arrival = state.arrivals[uri] { continuation.yield(arrival) }
                return id
            }
            defer { _ = state.withLockedValue { $0.watchers.removeValue(forKey: id) } }
            let found = try await withThrowingTaskGroup(of: Arrival?.self) { group in
                group.addTask {
                    for await arrival in updates where condition(arrival) { return arrival }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            guard let found else { throw TestEnvironment.TimedOut(what: "the backend's request to \(uri)") }
            return found
        }

        private func publish(_ uri: String, _ change: (inout Arrival?) -> Void) {
            state.withLockedValue { state in
                change(&state.arrivals[uri])
                guard let arrival = state.arrivals[uri] else { return }
                for watcher in state.watchers.values where watcher.uri == uri { watcher.updates.yield(arrival) }
            }
        }
    }
}
