import Logging
import NIOCore
import NIOHTTP1

/// `GET /events`: checks who is connecting and whether this node takes one more stream, then turns
/// the connection into the stream: the HTTP handlers make way for a `StreamHandler`, and pre-encoded
/// event bytes go straight to the socket, without chunked framing.
struct StreamRoute: Sendable {
    let authenticator: Authenticator
    let cors: CORSPolicy
    let kicks: KickBars
    let hub: LocalHub
    let streams: StreamOpener
    /// `limits.maxConnections` (0: none).
    let maxConnections: Int
    let addressLimit: AddressConnectionLimit
    let userLimit: UserConnectionLimit
    let limitLogs: LimitLogs
    /// False once the node drains: a new stream is told to go elsewhere.
    let isAccepting: @Sendable () -> Bool
    let logger: Logger

    /// Handlers that only speak HTTP responses; removed when the connection becomes a stream.
    static let responseHandlerNames = ["http-deadlines", "http-pipelining", "http-errors", "http-encoder"]

    /// Answers the request, or makes the connection a stream; `becameStream` is called as soon as
    /// nothing the client sends after this request may be read as another one.
    func open(_ head: HTTPRequestHead, _ handler: HTTPHandler, _ context: ChannelHandlerContext, becameStream: () -> Void) {
        let responder = HTTPResponder(head: head, handler: handler, context: context)
        var request: StreamRequest
        do {
            request = try StreamRequest(uri: head.uri, lastEventIDHeader: head.headers.first(name: "last-event-id"))
        } catch {
            logger.info("refused stream", metadata: ["error": "\(error)"])
            responder.respond(.badRequest, JSONBody.error(error.code, error.message))
            return
        }
        guard isAccepting() else {
            responder.respond(.serviceUnavailable, JSONBody.error("shutting_down", "this node is shutting down"), close: true)
            return
        }
        let claims: VerifiedClaims?
        do {
            claims = try authenticate(&request, head)
        } catch {
            // The code says why; the token itself never reaches a log line.
            logger.info("refused stream", metadata: ["error": "\(error.code)"])
            responder.respond(error.status, JSONBody.error(error.code, error.message))
            return
        }
        let issuedAt = claims.map { claims in claims.issuedAt.map { Int64($0 * 1000) } ?? 0 }
        switch kicks.refusal(for: request, issuedAt: issuedAt) {
        case .barred(let kick):
            logger.info("refused stream of a kicked target", metadata: ["target": "\(kick.target)"])
            responder.respond(.forbidden, JSONBody.kicked(kick))
            return
        case .revoked(let kick):
            logger.info("refused a token issued before its target was kicked", metadata: ["target": "\(kick.target)"])
            responder.respond(
                .unauthorized,
                JSONBody.error("token_revoked", "this token was issued before its \(kick.target.kind.rawValue) was kicked out; a new token is needed"))
            return
        case nil:
            break
        }
        if maxConnections > 0, hub.connectionCount >= maxConnections {
            limitLogs.nodeFull.note("connection limit reached: refusing streams with 503", logger: logger, metadata: ["limit": "\(maxConnections)"])
            responder.respond(
                .serviceUnavailable, JSONBody.error("node_full", "this node holds its most streams (\(maxConnections)); try again, or another node"),
                headers: [("Retry-After", "5")], close: true)
            return
        }
        guard admitAddress(context, responder) else { return }
        becameStream()
        guard userLimit.isOn, userLimit.policy == .refuseNew, let user = request.user else {
            return start(head, request, handler, context)
        }
        let userLimit = self.userLimit
        let bound = NIOLoopBound((handler, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { [request] in
            await userLimit.admits(user: user, tenant: request.tenant)
        }.whenSuccess { [request, self] admitted in
            let (handler, context) = bound.value
            guard admitted else {
                limitLogs.userLimit.note("per-user connection limit reached: refusing streams with 429", logger: logger)
                responder.respond(
                    .tooManyRequests,
                    JSONBody.error("too_many_connections", "this user holds the most streams allowed (\(userLimit.maximum)); close one first"), close: true)
                return
            }
            guard context.channel.isActive else { return }
            start(head, request, handler, context)
        }
    }

    /// `limits.maxConnectionsPerAddress`: takes a place for the client's address until the connection
    /// closes, or answers 429 and returns false when the address holds its most streams.
    private func admitAddress(_ context: ChannelHandlerContext, _ responder: HTTPResponder) -> Bool {
        let limit = addressLimit
        guard limit.isOn, let address = context.channel.remoteAddress?.ipAddress else { return true }
        guard limit.admit(address) else {
            limitLogs.addressLimit.note(
                "per-address connection limit reached: refusing streams with 429", logger: logger,
                metadata: ["limit": "\(limit.maximum)", "address": "\(address)"])
            responder.respond(
                .tooManyRequests,
                JSONBody.error("too_many_connections_from_address", "this address holds the most streams allowed (\(limit.maximum)); close one first"),
                headers: [("Retry-After", "5")], close: true)
            return false
        }
        context.channel.closeFuture.whenComplete { _ in limit.release(address) }
        return true
    }

    /// Turns the connection into the stream `request` asks for.
    private func start(_ head: HTTPRequestHead, _ request: StreamRequest, _ handler: HTTPHandler, _ context: ChannelHandlerContext) {
        let sync = context.pipeline.syncOperations
        for name in Self.responseHandlerNames {
            sync.removeHandler(name: name, promise: nil)
        }
        var response = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n"
        for (name, value) in cors.responseHeaders(for: head) {
            response += "\(name): \(value)\r\n"
        }
        response += "\r\n"
        // Not flushed: it leaves with `connected`, in one write(2) instead of two (the stream flushes
        // it first if it closes before that).
        context.write(NIOAny(context.channel.allocator.buffer(string: response)), promise: nil)
        let stream = streams.attach(channel: context.channel, request: request)
        // From here the stream's own handler serves the connection; the HTTP parser and the HTTP handler
        // go, so an idle stream holds neither.
        do {
            try sync.addHandler(StreamHandler(streams: streams, stream: stream, logger: logger), position: .after(handler))
        } catch {
            streams.detach(stream)  // The pipeline is gone: the connection is closing.
            context.close(promise: nil)
            return
        }
        sync.removeHandler(name: "http-decoder", promise: nil)
        sync.removeHandler(handler, promise: nil)
    }

    /// With authentication on, who is connecting comes from the token alone: the query may not say,
    /// and the channels asked for must be granted by it.
    private func authenticate(_ request: inout StreamRequest, _ head: HTTPRequestHead) throws(AuthError) -> VerifiedClaims? {
        guard let claims = try authenticator.subscriber(headers: head.headers, uri: head.uri, origins: cors) else { return nil }
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
}
