import NIOCore
import NIOHTTP1

/// `POST /send/<path>` and `POST /upload/<path>`: a browser talking back, as the user its token says
/// (README, "Browser → server"). The head is checked before any of the body is read (`SendRequest`),
/// the body is read under the request's own limit and the node-wide `BodyBudget`, and `UpstreamSender`
/// hands it on.
extension HTTPHandler {
    /// A send or upload between its head and its end.
    enum PendingSend {
        /// Checked: its body is being read.
        case reading(SendRequest, BodyReservation)
        /// Refused (from its head, or because the node held too much): its body is read and dropped,
        /// then the refusal is sent, so a browser still sending gets the answer instead of a reset
        /// connection.
        case refused(SendRefusal, dropped: Int)
    }

    func beginSend(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ kind: SendKind, _ rest: Substring) {
        if node.cors.refuses(head) {
            return refuse(context, head, SendRefusal(.forbidden, "origin_not_allowed", "requests from this origin are not allowed"))
        }
        let limits = SendRequest.Limits(maxBodySize: node.configuration.maxBodySize, maxUploadSize: node.configuration.maxUploadSize)
        do {
            let request = try SendRequest(head: head, kind: kind, path: rest, authenticator: node.authenticator, limits: limits)
            let reservation = node.upstream.budget.share()
            // An announced length is reserved at once: a body that cannot be held is not read into memory.
            let declared = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
            guard reservation.cover(declared) else { return refuse(context, head, Self.busy) }
            pendingSend = .reading(request, reservation)
        } catch {
            refuse(context, head, error)
        }
    }

    func receiveSendBody(_ context: ChannelHandlerContext, _ chunk: inout ByteBuffer) {
        switch pendingSend {
        case .refused(let refusal, let dropped):
            let total = dropped + chunk.readableBytes
            // Past an upload's worth, the caller is answered now and the connection closed.
            guard total <= node.configuration.maxUploadSize else { return answerNow(context, refusal) }
            pendingSend = .refused(refusal, dropped: total)
        case .reading(let request, let reservation):
            guard (body?.readableBytes ?? 0) + chunk.readableBytes <= request.bodyLimit else {
                return answerNow(context, SendRequest.tooLarge(request.bodyLimit))
            }
            guard reservation.cover((body?.readableBytes ?? 0) + chunk.readableBytes) else {
                body = nil
                pendingSend = .refused(Self.busy, dropped: chunk.readableBytes)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case nil:
            break
        }
    }

    func finishSend(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ pending: PendingSend) {
        switch pending {
        case .refused(let refusal, _):
            answer(context, head, .refused(refusal))
        case .reading(let request, let reservation):
            let body = self.body ?? ByteBuffer()
            self.body = nil
            let sender = node.upstream
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask {
                let answer = await sender.deliver(request, body: body)
                // The body was held until it was handed on.
                withExtendedLifetime(reservation) {}
                return answer
            }.whenSuccess { answer in
                let (handler, context) = bound.value
                handler.answer(context, head, answer)
            }
        }
    }

    /// A refusal decided from the head: sent now when the body is too large to read through (or says
    /// so), else once the body has been read and dropped.
    private func refuse(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ refusal: SendRefusal) {
        let declared = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
        if refusal.status == .payloadTooLarge || declared > node.configuration.maxUploadSize {
            return answerNow(context, refusal)
        }
        pendingSend = .refused(refusal, dropped: 0)
    }

    /// Answers before the body was read through, and closes the connection: the rest of the body is
    /// not read.
    private func answerNow(_ context: ChannelHandlerContext, _ refusal: SendRefusal) {
        discardingBody = true
        body = nil
        pendingSend = nil
        node.upstream.note(refusal)
        respondError(context, refusal.status, refusal.code, refusal.message, extraHeaders: Self.headers(refusal), close: true)
    }

    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ answer: SendAnswer) {
        switch answer {
        case .node(let status, let body):
            respond(context, head, status, body)
        case .upstream(let status, let contentType, let body):
            let hasBody = body.readableBytes > 0
            respond(context, head, status, hasBody ? body : nil, contentType: contentType ?? "application/octet-stream")
        case .refused(let refusal):
            node.upstream.note(refusal)
            respond(context, head, refusal.status, JSONBody.error(refusal.code, refusal.message), extraHeaders: Self.headers(refusal))
        }
    }

    private static let busy = SendRefusal(
        .serviceUnavailable, "busy", "this node holds as many send and upload bodies as it may; try again shortly", retryAfter: 1)

    private static func headers(_ refusal: SendRefusal) -> [(String, String)] {
        refusal.retryAfter.map { [("Retry-After", String($0))] } ?? []
    }
}
