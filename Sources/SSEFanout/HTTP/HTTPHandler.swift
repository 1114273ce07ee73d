import Logging
import NIOCore
import NIOHTTP1

/// Serves one HTTP connection. Plain routes answer through NIO's HTTP encoder; `GET /events`
/// turns the connection into an event stream: the HTTP handlers, this one included, make way for a
/// `StreamHandler`, and pre-encoded event bytes go straight to the socket, without chunked framing.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Handlers that only speak HTTP responses; removed when the connection becomes a stream.
    static let responseHandlerNames = ["http-pipelining", "http-errors", "http-encoder"]

    private let node: Node
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var discardingBody = false

    init(node: Node) {
        self.node = node
        self.logger = node.logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = nil
            self.discardingBody = false
            // Refuse an announced oversize body before reading any of it.
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > node.configuration.maxBodySize {
                discardingBody = true
                respondError(context, .payloadTooLarge, "body_too_large", "the body exceeds \(node.configuration.maxBodySize) bytes", close: true)
            }
        case .body(var chunk):
            guard !discardingBody else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > node.configuration.maxBodySize {
                discardingBody = true
                body = nil
                respondError(context, .payloadTooLarge, "body_too_large", "the body exceeds \(node.configuration.maxBodySize) bytes", close: true)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head, !discardingBody else { return }
            self.head = nil
            route(context, head)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Resets and protocol errors end this connection only.
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func route(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        switch (head.method, path) {
        case (.OPTIONS, _):
            preflight(context, head)
        case (.GET, "/events"):
            openStream(context, head)
        case (.POST, "/publish"):
            publish(context, head)
        case (.GET, "/healthz"):
            respond(context, head, .ok, JSONBody.encode(["status": "ok", "nodeId": node.nodeID]))
        case (.GET, "/readyz"):
            readiness(context, head)
        case (_, "/events"), (_, "/publish"), (_, "/healthz"), (_, "/readyz"):
            respond(context, head, .methodNotAllowed, JSONBody.error("method_not_allowed", "\(head.method) is not allowed on \(path)"))
        default:
            respond(context, head, .notFound, JSONBody.error("not_found", "no route for \(path)"))
        }
    }

    // MARK: - Routes

    private func preflight(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        guard let headers = node.cors.preflightHeaders(for: head) else {
            respond(context, head, .forbidden, JSONBody.error("cors_forbidden", "origin not allowed"))
            return
        }
        respond(context, head, .noContent, nil, extraHeaders: headers)
    }

    private func openStream(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let request: StreamRequest
        do {
            request = try StreamRequest(uri: head.uri, lastEventIDHeader: head.headers.first(name: "last-event-id"))
        } catch {
            logger.info("refused stream", metadata: ["error": "\(error)"])
            respond(context, head, .badRequest, JSONBody.error(error.code, error.message))
            return
        }
        guard node.isAcceptingStreams else {
            respond(context, head, .serviceUnavailable, JSONBody.error("shutting_down", "this node is shutting down"), close: true)
            return
        }
        let sync = context.pipeline.syncOperations
        for name in Self.responseHandlerNames {
            sync.removeHandler(name: name, promise: nil)
        }
        var response = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n"
        for (name, value) in node.cors.responseHeaders(for: head) {
            response += "\(name): \(value)\r\n"
        }
        response += "\r\n"
        // Not flushed: it leaves with `connected`, in one write(2) instead of two (the stream flushes
        // it first if it closes before that).
        context.write(NIOAny(context.channel.allocator.buffer(string: response)), promise: nil)
        let stream = node.streams.attach(channel: context.channel, request: request)
        // From here the stream's own handler serves the connection; the HTTP parser and this handler
        // go, so an idle stream holds neither.
        do {
            try sync.addHandler(StreamHandler(node: node, stream: stream), position: .after(self))
        } catch {
            node.streams.detach(stream)  // The pipeline is gone: the connection is closing.
            context.close(promise: nil)
            return
        }
        sync.removeHandler(name: "http-decoder", promise: nil)
        sync.removeHandler(self, promise: nil)
    }

    /// One publish object gets one answer; an array gets an array of answers in the same order,
    /// 202 when every item was routed, else 503 (the failed items say why).
    private func publish(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let bytes = body.map { Array($0.readableBytesView) } ?? []
        body = nil
        let publications: [Publication]
        let isBatch: Bool
        do {
            (publications, isBatch) = try PublicationCodec.decodeBatch(bytes)
        } catch {
            logger.info("refused publish", metadata: ["error": "\(error)"])
            respond(context, head, .badRequest, JSONBody.error(error.code, error.message))
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let answers = PublishAnswers(count: publications.count)
        // Submitted now, on arrival: publications to one target leave in this order.
        node.router.submit(publications) { index, outcome in
            guard let all = answers.set(index, outcome) else { return }
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.answer(context, head, all, isBatch: isBatch)
            }
        }
    }

    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ outcomes: [Result<Router.Result, Router.Failure>], isBatch: Bool) {
        var failure: Router.Failure?
        for case .failure(let error) in outcomes where failure == nil { failure = error }
        if let failure {
            logger.warning("publish failed", metadata: ["error": "\(failure)", "of": "\(outcomes.count)"])
        }
        let status: HTTPResponseStatus = failure == nil ? .accepted : .serviceUnavailable
        if isBatch {
            respond(context, head, status, PublishAnswers.encode(outcomes))
        } else {
            respond(context, head, status, PublishAnswers.encode(outcomes[0]))
        }
    }

    private func readiness(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let node = self.node
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            await node.readinessProblems()
        }.whenSuccess { problems in
            let (handler, context) = bound.value
            if problems.isEmpty {
                handler.respond(context, head, .ok, JSONBody.encode(["status": "ready", "nodeId": node.nodeID]))
            } else {
                handler.respond(context, head, .serviceUnavailable, JSONBody.encode(["status": "unavailable", "nodeId": node.nodeID, "reasons": problems]))
            }
        }
    }

    // MARK: - Responses

    private func respondError(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ code: String, _ message: String, close: Bool) {
        guard let head else { return }
        respond(context, head, status, JSONBody.error(code, message), close: close)
    }

    private func respond(
        _ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: [UInt8]?,
        extraHeaders: [(String, String)] = [], close: Bool = false
    ) {
        guard context.channel.isActive else { return }
        let keepAlive = request.isKeepAlive && !close
        var headers = HTTPHeaders()
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
        } else if status != .noContent {
            headers.add(name: "Content-Length", value: "0")
        }
        headers.add(contentsOf: node.cors.responseHeaders(for: request).filter { entry in !extraHeaders.contains { $0.0 == entry.0 } })
        headers.add(contentsOf: extraHeaders)
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if let body {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }
}
