import Logging
import NIOCore
import NIOHTTP1

/// Serves one HTTP connection: reads each request under its limits, and hands it to its route
/// (`HTTPRoutes`). Plain routes answer through NIO's HTTP encoder (`HTTPResponder`); `GET /events`
/// turns the connection into an event stream (`StreamRoute`); a send's body is read or forwarded as
/// it arrives (`UpstreamRoutes.swift`).
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: HTTPRoutes
    var sends: SendRoute { routes.sends }
    let logger: Logger
    private var head: HTTPRequestHead?
    var body: ByteBuffer?
    var discardingBody = false
    /// A send or upload whose head was read (`UpstreamRoutes.swift`): its body is read or forwarded under
    /// its own limits, and it is answered.
    var pendingSend: PendingSend?
    /// Set once the connection became a stream: whatever the client sent after its `GET /events`
    /// (pipelined requests the decoder still hands over) is dropped and never answered.
    private var isStream = false

    init(routes: HTTPRoutes) {
        self.routes = routes
        self.logger = routes.logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isStream else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = nil
            self.discardingBody = false
            self.pendingSend = nil
            if head.method == .POST, let (kind, rest) = SendKind.of(path: HTTPRequest.path(of: head.uri)) {
                return beginSend(context, head, kind, rest)
            }
            // Refuse an announced oversize body before reading any of it.
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > routes.maxBodySize {
                discardingBody = true
                respondError(context, .payloadTooLarge, "body_too_large", "the body exceeds \(routes.maxBodySize) bytes", close: true)
            }
        case .body(var chunk):
            guard !discardingBody else { return }
            if pendingSend != nil, let head { return receiveSendBody(context, head, &chunk) }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > routes.maxBodySize {
                discardingBody = true
                body = nil
                respondError(context, .payloadTooLarge, "body_too_large", "the body exceeds \(routes.maxBodySize) bytes", close: true)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head, !discardingBody else { return }
            self.head = nil
            if let pendingSend { return finishSend(context, head, pendingSend) }
            route(context, head)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandonSend()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Resets and protocol errors end this connection only.
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func route(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let path = HTTPRequest.path(of: head.uri)
        logger.debug("request", metadata: ["method": "\(head.method)", "uri": "\(LogRedaction.uri(head.uri))"])
        let bytes = body.map { Array($0.readableBytesView) } ?? []
        body = nil
        let responder = HTTPResponder(head: head, handler: self, context: context)
        // Probes and the browser client answer any origin; the rest only those on the list.
        if routes.cors.refuses(head), path != "/healthz", path != "/readyz", BrowserClient.file(at: path) == nil {
            logger.info("refused a request from an origin not on the list", metadata: ["path": "\(path)"])
            responder.respond(.forbidden, JSONBody.error("origin_not_allowed", "requests from this origin are not allowed"))
            return
        }
        if head.method == .OPTIONS { return preflight(head, responder) }
        if head.method == .GET, path == "/events" {
            return routes.stream.open(head, self, context) { isStream = true }
        }
        switch routes.table.match(head.method, path) {
        case .route(let route):
            route.handle(HTTPRequest(head: head, path: path, body: bytes, eventLoop: context.eventLoop), responder)
        case .methodNotAllowed:
            responder.respond(.methodNotAllowed, JSONBody.error("method_not_allowed", "\(head.method) is not allowed on \(path)"))
        case .notFound:
            responder.respond(.notFound, JSONBody.error("not_found", "no route for \(path)"))
        }
    }

    private func preflight(_ head: HTTPRequestHead, _ responder: HTTPResponder) {
        guard let headers = routes.cors.preflightHeaders(for: head) else {
            responder.respond(.forbidden, JSONBody.error("cors_forbidden", "origin not allowed"))
            return
        }
        responder.respond(.noContent, nil, headers: headers)
    }

    // MARK: - Responses

    func respondError(
        _ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ code: String, _ message: String, extraHeaders: [(String, String)] = [],
        close: Bool
    ) {
        guard let head else { return }
        respond(context, head, status, JSONBody.error(code, message), extraHeaders: extraHeaders, close: close)
    }

    func respond(
        _ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: [UInt8]?,
        extraHeaders: [(String, String)] = [], close: Bool = false
    ) {
        let buffer = body.map { context.channel.allocator.buffer(bytes: $0) }
        write(context, request, status, buffer, contentType: "application/json", extraHeaders: extraHeaders, close: close)
    }

    /// The response, with the CORS headers the request earned (unless `extraHeaders` sets them), on the
    /// connection's loop; closes the connection after it when asked or when the client did not keep it alive.
    func write(
        _ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: ByteBuffer?,
        contentType: String, extraHeaders: [(String, String)] = [], close: Bool = false
    ) {
        guard context.channel.isActive else { return }
        let keepAlive = request.isKeepAlive && !close
        var headers = HTTPHeaders()
        if let body {
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        } else if status != .noContent {
            headers.add(name: "Content-Length", value: "0")
        }
        headers.add(contentsOf: routes.cors.responseHeaders(for: request).filter { entry in !extraHeaders.contains { $0.0 == entry.0 } })
        headers.add(contentsOf: extraHeaders)
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if let body, request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }
}
