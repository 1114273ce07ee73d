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
    static let responseHandlerNames = ["http-deadlines", "http-pipelining", "http-errors", "http-encoder"]

    let node: Node
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

    init(node: Node) {
        self.node = node
        self.logger = node.logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isStream else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = nil
            self.discardingBody = false
            self.pendingSend = nil
            if head.method == .POST, let (kind, rest) = SendKind.of(path: Self.path(of: head.uri)) {
                return beginSend(context, head, kind, rest)
            }
            // Refuse an announced oversize body before reading any of it.
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > node.configuration.maxBodySize {
                discardingBody = true
                respondError(context, .payloadTooLarge, "body_too_large", "the body exceeds \(node.configuration.maxBodySize) bytes", close: true)
            }
        case .body(var chunk):
            guard !discardingBody else { return }
            if pendingSend != nil, let head { return receiveSendBody(context, head, &chunk) }
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

    /// The path of a request URI, without its query.
    static func path(of uri: String) -> String {
        uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
    }

    private func route(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let path = Self.path(of: head.uri)
        logger.debug("request", metadata: ["method": "\(head.method)", "uri": "\(LogRedaction.uri(head.uri))"])
        let browserFile = BrowserClient.file(at: path)
        if node.cors.refuses(head), path != "/healthz", path != "/readyz", browserFile == nil {
            logger.info("refused a request from an origin not on the list", metadata: ["path": "\(path)"])
            respond(context, head, .forbidden, JSONBody.error("origin_not_allowed", "requests from this origin are not allowed"))
            return
        }
        switch (head.method, path) {
        case (.OPTIONS, _):
            preflight(context, head)
        case (.GET, "/events"):
            openStream(context, head)
        case (.POST, "/publish"):
            publish(context, head)
        case (.POST, "/disconnect"):
            disconnect(context, head)
        case (.GET, "/healthz"):
            respond(context, head, .ok, JSONBody.encode(["status": "ok", "nodeId": node.nodeID]))
        case (.HEAD, "/healthz"), (.HEAD, "/readyz"):
            // A probe that only wants the status: readiness for /readyz is what GET would say.
            if path == "/healthz" { respond(context, head, .ok, nil) } else { readiness(context, head) }
        case (.GET, "/readyz"):
            readiness(context, head)
        case (.GET, "/metrics") where node.configuration.metricsEnabled:
            metrics(context, head)
        case (.GET, _) where PresenceRoutes.handles(path):
            presence(context, head)
        case (.GET, "/demo") where node.configuration.demo, (.HEAD, "/demo") where node.configuration.demo:
            servePage(WebPages.demo, context, head)
        case (.POST, "/demo/token") where node.configuration.demo:
            demoToken(context, head)
        case (.GET, "/admin"), (.HEAD, "/admin"):
            servePage(WebPages.admin, context, head)
        case (.GET, _) where AdminRoutes.handles(path):
            admin(context, head)
        case (.GET, _) where browserFile != nil, (.HEAD, _) where browserFile != nil:
            serve(browserFile!, context, head)
        case (_, "/events"), (_, "/publish"), (_, "/disconnect"), (_, "/healthz"), (_, "/readyz"), (_, _) where PresenceRoutes.handles(path),
            (_, _) where SendKind.of(path: path) != nil, (_, "/admin"), (_, _) where AdminRoutes.handles(path):
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
        var request: StreamRequest
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
        let claims: VerifiedClaims?
        do {
            claims = try authenticate(&request, head)
        } catch {
            // The code says why; the token itself never reaches a log line.
            logger.info("refused stream", metadata: ["error": "\(error.code)"])
            respond(context, head, error.status, JSONBody.error(error.code, error.message))
            return
        }
        let issuedAt = claims.map { claims in claims.issuedAt.map { Int64($0 * 1000) } ?? 0 }
        switch node.kicks.refusal(for: request, issuedAt: issuedAt) {
        case .barred(let kick):
            logger.info("refused stream of a kicked target", metadata: ["target": "\(kick.target)"])
            respond(context, head, .forbidden, JSONBody.kicked(kick))
            return
        case .revoked(let kick):
            logger.info("refused a token issued before its target was kicked", metadata: ["target": "\(kick.target)"])
            respond(
                context, head, .unauthorized,
                JSONBody.error("token_revoked", "this token was issued before its \(kick.target.kind.rawValue) was kicked out; a new token is needed"))
            return
        case nil:
            break
        }
        let limit = node.configuration.maxConnections
        if limit > 0, node.hub.connectionCount >= limit {
            node.limitLogs.nodeFull.note("connection limit reached: refusing streams with 503", logger: logger, metadata: ["limit": "\(limit)"])
            respond(
                context, head, .serviceUnavailable, JSONBody.error("node_full", "this node holds its most streams (\(limit)); try again, or another node"),
                extraHeaders: [("Retry-After", "5")], close: true)
            return
        }
        guard admitAddress(context, head) else { return }
        // Nothing the client sends from here on is another request.
        isStream = true
        let userLimit = node.userLimit
        guard userLimit.isOn, userLimit.policy == .refuseNew, let user = request.user else {
            return startStream(context, head, request)
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { [request] in
            await userLimit.admits(user: user, tenant: request.tenant)
        }.whenSuccess { [request] admitted in
            let (handler, context) = bound.value
            guard admitted else {
                handler.node.limitLogs.userLimit.note("per-user connection limit reached: refusing streams with 429", logger: handler.logger)
                handler.respond(
                    context, head, .tooManyRequests,
                    JSONBody.error("too_many_connections", "this user holds the most streams allowed (\(userLimit.maximum)); close one first"), close: true)
                return
            }
            guard context.channel.isActive else { return }
            handler.startStream(context, head, request)
        }
    }

    /// `limits.maxConnectionsPerAddress`: takes a place for the client's address until the connection
    /// closes, or answers 429 and returns false when the address holds its most streams.
    private func admitAddress(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) -> Bool {
        let limit = node.addressLimit
        guard limit.isOn, let address = context.channel.remoteAddress?.ipAddress else { return true }
        guard limit.admit(address) else {
            node.limitLogs.addressLimit.note(
                "per-address connection limit reached: refusing streams with 429", logger: logger,
                metadata: ["limit": "\(limit.maximum)", "address": "\(address)"])
            respond(
                context, head, .tooManyRequests,
                JSONBody.error("too_many_connections_from_address", "this address holds the most streams allowed (\(limit.maximum)); close one first"),
                extraHeaders: [("Retry-After", "5")], close: true)
            return false
        }
        context.channel.closeFuture.whenComplete { _ in limit.release(address) }
        return true
    }

    /// Turns the connection into the stream `request` asks for.
    private func startStream(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ request: StreamRequest) {
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

    /// With authentication on, who is connecting comes from the token alone: the query may not say,
    /// and the channels asked for must be granted by it.
    private func authenticate(_ request: inout StreamRequest, _ head: HTTPRequestHead) throws(AuthError) -> VerifiedClaims? {
        guard let claims = try node.authenticator.subscriber(headers: head.headers, uri: head.uri, origins: node.cors) else { return nil }
        guard !request.declaresIdentity else {
            throw AuthError(
                "identity_from_token", "with authentication on, the user, tenant and session come from the token: leave 'user', 'tenant' and 'session' out of the query",
                status: .badRequest)
        }
        try claims.checkChannels(request.channels)
        request.user = claims.user
        request.tenant = claims.tenant ?? ""
        request.session = claims.sessionID
        request.expiresAt = Int64(claims.expiresAt * 1000)
        return claims
    }

    /// The publisher's credential for a request that needs one (publish, disconnect, presence),
    /// or nil after answering 401/403.
    func publisher(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) -> PublisherCredential? {
        do {
            return try node.authenticator.publisher(headers: head.headers)
        } catch {
            logger.info("refused publisher", metadata: ["error": "\(error.code)"])
            respond(context, head, error.status, JSONBody.error(error.code, error.message))
            return nil
        }
    }

    /// Bodies are JSON: anything else (a form, `text/plain`, which a page can send anywhere without a
    /// preflight) is refused before it is read as a publication.
    func requireJSON(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) -> Bool {
        let type = head.headers.first(name: "content-type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            respond(context, head, .unsupportedMediaType, JSONBody.error("unsupported_media_type", "the body must be sent as Content-Type: application/json"))
            return false
        }
        return true
    }

    /// Checks every target against the credential; a token confined to a tenant addresses its own
    /// tenant when a target names none. Answers 403 and returns nil when one is not allowed.
    private func authorize(
        _ publications: [Publication], _ credential: PublisherCredential, _ context: ChannelHandlerContext, _ head: HTTPRequestHead
    ) -> [Publication]? {
        var publications = publications
        for index in publications.indices {
            if let tenant = publications[index].targets.isEmpty ? nil : credential.confinedTenant {
                publications[index].targets = publications[index].targets.map { $0.tenant.isEmpty ? $0.scoped(to: tenant) : $0 }
            }
            for target in publications[index].targets {
                do {
                    try credential.check(target)
                } catch {
                    logger.info("refused publish", metadata: ["error": "\(error.code)", "target": "\(target)"])
                    let message = publications.count > 1 ? "item \(index): \(error.message)" : error.message
                    respond(context, head, error.status, JSONBody.error(error.code, message))
                    return nil
                }
            }
        }
        return publications
    }

    /// One publish object gets one answer; an array gets an array of answers in the same order,
    /// 202 when every item was routed, else 503 (the failed items say why).
    private func publish(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let bytes = body.map { Array($0.readableBytesView) } ?? []
        body = nil
        guard requireJSON(context, head), let credential = publisher(context, head) else { return }
        var publications: [Publication]
        let isBatch: Bool
        do {
            (publications, isBatch) = try PublicationCodec.decodeBatch(bytes, maxItems: node.configuration.maxBatchItems)
        } catch {
            logger.info("refused publish", metadata: ["error": "\(error)"])
            respond(context, head, .badRequest, JSONBody.error(error.code, error.message))
            return
        }
        guard let authorized = authorize(publications, credential, context, head) else { return }
        publications = authorized
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let answers = PublishAnswers(count: publications.count)
        // Submitted now, on arrival: publications to one target leave in this order.
        let detailed = credential.isFullRights
        node.router.submit(publications) { index, outcome in
            guard let all = answers.set(index, outcome) else { return }
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.answer(context, head, all, isBatch: isBatch, detailed: detailed)
            }
        }
    }

    /// `POST /disconnect`: a kick (see `Kick`), answered 202 with how many nodes held the target.
    private func disconnect(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let bytes = body.map { Array($0.readableBytesView) } ?? []
        body = nil
        guard requireJSON(context, head), let credential = publisher(context, head) else { return }
        var kick: Kick
        do {
            kick = try Kick.decodeRequest(bytes)
        } catch {
            logger.info("refused disconnect", metadata: ["error": "\(error)"])
            respond(context, head, .badRequest, JSONBody.error(error.code, error.message))
            return
        }
        if let tenant = credential.confinedTenant, kick.target.tenant.isEmpty { kick.target = kick.target.scoped(to: tenant) }
        do {
            try credential.check(kick.target)
        } catch {
            logger.info("refused disconnect", metadata: ["error": "\(error.code)", "target": "\(kick.target)"])
            respond(context, head, error.status, JSONBody.error(error.code, error.message))
            return
        }
        let node = self.node
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { [kick] in
            try await node.kick(kick)
        }.whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(let nodes):
                handler.respond(context, head, .accepted, JSONBody.encode(["target": kick.target.key, "nodes": nodes, "reconnect": kick.reconnect] as [String: Any]))
            case .failure(let error):
                handler.logger.warning("disconnect failed", metadata: ["error": "\(error)"])
                let message = credential.isFullRights ? "\(error)" : "the kick could not be sent (Redis or RabbitMQ unreachable); retry it"
                handler.respond(context, head, .serviceUnavailable, JSONBody.error("unavailable", message))
            }
        }
    }

    /// `GET /presence/...`: who is online, cluster-wide (`PresenceRoutes`), for a publisher credential;
    /// one confined to a tenant sees that tenant only, and a token what its patterns reach.
    private func presence(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        guard let credential = publisher(context, head) else { return }
        let registry = node.registry
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            await PresenceRoutes.answer(uri: head.uri, presence: registry, credential: credential)
        }.whenSuccess { answer in
            let (handler, context) = bound.value
            if answer.status != .ok {
                handler.logger.info("refused presence request", metadata: ["status": "\(answer.status.code)"])
            }
            handler.respond(context, head, answer.status, answer.body)
        }
    }

    private func answer(
        _ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ outcomes: [Result<Router.Result, Router.Failure>], isBatch: Bool, detailed: Bool
    ) {
        var failure: Router.Failure?
        for case .failure(let error) in outcomes where failure == nil { failure = error }
        if let failure {
            logger.warning("publish failed", metadata: ["error": "\(failure)", "of": "\(outcomes.count)"])
        }
        // 409 when the only failures are ids another attempt holds (retry later), 503 when a store was away.
        let unavailable = outcomes.contains { if case .failure(let error) = $0, error.code != "in_flight" { true } else { false } }
        let status: HTTPResponseStatus = failure == nil ? .accepted : unavailable ? .serviceUnavailable : .conflict
        if isBatch {
            respond(context, head, status, PublishAnswers.encode(outcomes, detailed: detailed))
        } else {
            respond(context, head, status, PublishAnswers.encode(outcomes[0], detailed: detailed))
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
                // What a store answered (its host, port and error) is for an operator's key only; a probe
                // learns which store is away.
                let detailed = (try? node.authenticator.publisher(headers: head.headers))?.isFullRights ?? false
                let reasons = detailed ? problems : problems.map { $0.components(separatedBy: ": ")[0] }
                handler.respond(context, head, .serviceUnavailable, JSONBody.encode(["status": "unavailable", "nodeId": node.nodeID, "reasons": reasons]))
            }
        }
    }

    /// The Prometheus text exposition. Node-wide figures, so an API key reads them, not a tenant's token.
    private func metrics(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        guard let credential = publisher(context, head) else { return }
        guard credential == .unrestricted || credential == .apiKey else {
            respond(context, head, .forbidden, JSONBody.error("metrics_not_allowed", "metrics take an API key"))
            return
        }
        let body = context.channel.allocator.buffer(bytes: node.metrics.exposition(openStreams: node.hub.connectionCount))
        respond(context, head, .ok, body, contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    /// The browser client: public code any page may import, so any origin may load it (no credentials
    /// travel with it); `If-None-Match` with its tag gets 304.
    private func serve(_ file: BrowserClient.File, _ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let headers = [
            ("ETag", file.etag), ("Cache-Control", "public, max-age=300"), ("Access-Control-Allow-Origin", "*"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if head.headers[canonicalForm: "if-none-match"].contains(where: { $0 == file.etag || $0 == "*" }) {
            respond(context, head, .notModified, nil, contentType: file.contentType, extraHeaders: headers)
        } else {
            respond(context, head, .ok, file.body, contentType: file.contentType, extraHeaders: headers)
        }
    }

    /// The demo and admin pages: same-origin HTML (no `Access-Control-Allow-Origin`); `If-None-Match`
    /// with its tag gets 304.
    private func servePage(_ file: BrowserClient.File, _ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        let headers = [("ETag", file.etag)] + WebPages.headers
        if head.headers[canonicalForm: "if-none-match"].contains(where: { $0 == file.etag || $0 == "*" }) {
            respond(context, head, .notModified, nil, contentType: file.contentType, extraHeaders: headers)
        } else {
            respond(context, head, .ok, file.body, contentType: file.contentType, extraHeaders: headers)
        }
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
        respond(context, request, status, buffer, contentType: "application/json", extraHeaders: extraHeaders, close: close)
    }

    func respond(
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
        headers.add(contentsOf: node.cors.responseHeaders(for: request).filter { entry in !extraHeaders.contains { $0.0 == entry.0 } })
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
