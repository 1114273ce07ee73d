import NIOCore
import NIOHTTP1

/// `POST /send/<path>` and `POST /upload/<path>`: a browser talking back, as the user its token says
/// (README, "Browser → server"). The head is checked before any of the body is read (`SendRequest`).
/// To an HTTP backend the body goes on as it arrives (`ForwardedSend`); to RabbitMQ it is read whole,
/// under the request's own limit and the node-wide `BodyBudget`, and `UpstreamSender` publishes it.
extension HTTPHandler {
    /// A send or upload between its head and its answer.
    enum PendingSend {
        /// On its way to RabbitMQ: its body is being read and held.
        case holding(SendRequest, BodyReservation)
        /// On its way to the HTTP backend: its body goes on as it arrives, and the forward answers.
        case forwarding(ForwardedSend)
        /// Answered before its body was read through (refused from its head, refused because the node held
        /// too much, or answered by the backend early): its body is read and dropped, then the answer is
        /// sent, so a browser still sending gets it instead of a reset connection.
        case dropping(SendAnswer, dropped: Int)
    }

    func beginSend(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ kind: SendKind, _ rest: Substring) {
        if sends.cors.refuses(head) {
            return refuse(context, head, SendRefusal(.forbidden, "origin_not_allowed", "requests from this origin are not allowed"))
        }
        do {
            let request = try SendRequest(head: head, kind: kind, path: rest, authenticator: sends.authenticator, origins: sends.cors, limits: sends.limits)
            if sends.upstream.forwards { return forward(context, head, request) }
            let reservation = sends.upstream.budget.share()
            // An announced length is reserved at once: a body that cannot be held is not read into memory.
            guard reservation.cover(request.declaredLength ?? 0) else { return refuse(context, head, Self.busy) }
            pendingSend = .holding(request, reservation)
        } catch {
            refuse(context, head, error)
        }
    }

    func receiveSendBody(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ chunk: inout ByteBuffer) {
        switch pendingSend {
        case .dropping(let answer, let dropped):
            let total = dropped + chunk.readableBytes
            // Past an upload's worth, the caller is answered now and the connection closed.
            guard total <= sends.limits.maxUploadSize else { return answerNow(context, head, answer) }
            pendingSend = .dropping(answer, dropped: total)
        case .holding(let request, let reservation):
            guard (body?.readableBytes ?? 0) + chunk.readableBytes <= request.bodyLimit else {
                return answerNow(context, head, .refused(SendRequest.tooLarge(request.bodyLimit)))
            }
            guard reservation.cover((body?.readableBytes ?? 0) + chunk.readableBytes) else {
                body = nil
                pendingSend = .dropping(.refused(Self.busy), dropped: chunk.readableBytes)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .forwarding(let forward):
            forward.receive(chunk)
        case nil:
            break
        }
    }

    func finishSend(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ pending: PendingSend) {
        switch pending {
        case .dropping(let answer, _):
            pendingSend = nil
            self.answer(context, head, answer)
        case .holding(let request, let reservation):
            pendingSend = nil
            let body = self.body ?? ByteBuffer()
            self.body = nil
            let sender = sends.upstream
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask {
                let answer = await sender.publish(request, body: body)
                // The body was held until it was handed on.
                reservation.release()
                return answer
            }.whenSuccess { answer in
                let (handler, context) = bound.value
                handler.answer(context, head, answer)
            }
        case .forwarding(let forward):
            // Answered once the forward settles (`forwarded`).
            forward.end()
        }
    }

    /// The connection closed: a forward still receiving its body is aborted.
    func abandonSend() {
        if case .forwarding(let forward) = pendingSend { forward.stop(readOn: false) }
        pendingSend = nil
    }

    /// Starts the forward with the checked head; the body follows as it arrives.
    private func forward(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ request: SendRequest) {
        let forward = ForwardedSend(request, body: SendBodyStream(channel: context.channel))
        pendingSend = .forwarding(forward)
        let bound = NIOLoopBound((self, context, forward), eventLoop: context.eventLoop)
        forward.start(sends.upstream, on: context.eventLoop) { answer in
            let (handler, context, forward) = bound.value
            handler.forwarded(context, head, forward, answer)
        }
    }

    /// The forward's answer: sent now when the browser's body ended; when it has not, sent once the rest
    /// was read and dropped, or (a body that broke a rule) now, closing the connection.
    private func forwarded(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ forward: ForwardedSend, _ answer: SendAnswer) {
        // Otherwise the connection closed, or was answered already.
        guard case .forwarding(let current) = pendingSend, current === forward else { return }
        pendingSend = nil
        switch forward.state {
        case .received:
            self.answer(context, head, answer)
        case .refused(let refusal):
            answerNow(context, head, .refused(refusal))
        case .receiving, .stopped:
            forward.stop(readOn: true)
            pendingSend = .dropping(answer, dropped: forward.received)
        }
    }

    /// A refusal decided from the head: sent now when the body is too large to read through (or says
    /// so), else once the body has been read and dropped.
    private func refuse(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ refusal: SendRefusal) {
        let declared = head.headers.first(name: "content-length").flatMap(Int.init) ?? 0
        if refusal.status == .payloadTooLarge || declared > sends.limits.maxUploadSize {
            return answerNow(context, head, .refused(refusal))
        }
        pendingSend = .dropping(.refused(refusal), dropped: 0)
    }

    /// Answers before the body was read through, and closes the connection: the rest of the body is
    /// not read.
    private func answerNow(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ answer: SendAnswer) {
        discardingBody = true
        body = nil
        pendingSend = nil
        self.answer(context, head, answer, close: true)
    }

    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ answer: SendAnswer, close: Bool = false) {
        switch answer {
        case .node(let status, let body):
            respond(context, head, status, body, close: close)
        case .upstream(let status, let contentType, let body):
            let hasBody = body.readableBytes > 0
            write(context, head, status, hasBody ? body : nil, contentType: contentType ?? "application/octet-stream", close: close)
        case .refused(let refusal):
            sends.upstream.note(refusal)
            respond(context, head, refusal.status, JSONBody.error(refusal.code, refusal.message), extraHeaders: Self.headers(refusal), close: close)
        }
    }

    private static let busy = SendRefusal(
        .serviceUnavailable, "busy", "this node holds as many send and upload bodies as it may; try again shortly", retryAfter: 1)

    private static func headers(_ refusal: SendRefusal) -> [(String, String)] {
        refusal.retryAfter.map { [("Retry-After", String($0))] } ?? []
    }
}
