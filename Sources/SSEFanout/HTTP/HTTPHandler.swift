import Logging
import NIOCore
import NIOHTTP1

/// Serves one HTTP connection: reads each request under its limits, and hands it to its route
/// (`HTTPRoutes`). Plain routes answer through NIO's HTTP encoder (`HTTPResponder`); `GET /events`
/// turns the connection into an event stream (`StreamRoute`); a send's body is read or forwarded as
/// it arrives (`UpstreamRoutes.swift`). Where the connection is in its request is one
/// `HTTPConnectionStateMachine`: the handler feeds it what it reads and does what it answers.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: HTTPRoutes
    var sends: SendRoute { routes.sends }
    let logger: Logger
    /// Where the connection is in its current request; the handler does what its transitions say.
    var machine: HTTPConnectionStateMachine

    init(routes: HTTPRoutes) {
        self.routes = routes
        self.logger = routes.logger
        self.machine = HTTPConnectionStateMachine(maxBodySize: routes.maxBodySize, maxUploadSize: routes.sends.limits.maxUploadSize)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: HTTPConnectionStateMachine.Action
        switch unwrapInboundIn(data) {
        case .head(let head): action = machine.head(head)
        case .body(let piece): action = machine.body(piece)
        case .end: action = machine.end()
        }
        perform(action, context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(machine.channelInactive(), context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Resets and protocol errors end this connection only.
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Does what the machine said; called again with what the machine says to a send's check.
    func perform(_ action: HTTPConnectionStateMachine.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .checkSend(let head, let kind, let rest):
            perform(machine.sendChecked(checkSend(context, head, kind, rest)), context)
        case .refuseBody(let head):
            respond(context, head, .payloadTooLarge, JSONBody.error("body_too_large", "the body exceeds \(routes.maxBodySize) bytes"), close: true)
        case .route(let head, let body):
            route(context, head, body)
        case .answer(let head, let answer, let close):
            self.answer(context, head, answer, close: close)
        case .startForward(let forward):
            startForward(context, forward)
        case .forward(let forward, let piece):
            forward.receive(piece)
        case .endForward(let forward):
            forward.end()
        case .stopForward(let forward, let readOn):
            forward.stop(readOn: readOn)
        case .publish(let head, let request, let reservation, let body):
            publish(context, head, request, reservation, body)
        }
    }

    private func route(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ body: ByteBuffer?) {
        let path = HTTPRequest.path(of: head.uri)
        logger.debug("request", metadata: ["method": "\(head.method)", "uri": "\(LogRedaction.uri(head.uri))"])
        let bytes = body.map { Array($0.readableBytesView) } ?? []
        let responder = HTTPResponder(head: head, handler: self, context: context)
        // Probes and the browser client answer any origin; the rest only those on the list.
        if routes.cors.refuses(head), path != "/healthz", path != "/readyz", BrowserClient.file(at: path) == nil {
            logger.info("refused a request from an origin not on the list", metadata: ["path": "\(path)"])
            responder.respond(.forbidden, JSONBody.error("origin_not_allowed", "requests from this origin are not allowed"))
            return
        }
        if head.method == .OPTIONS { return preflight(head, responder) }
        if head.method == .GET, path == "/events" {
            return routes.stream.open(head, self, context) { machine.becameStream() }
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
