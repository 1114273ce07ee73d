import NIOCore
import NIOHTTP1

/// `POST /send/<path>` and `POST /upload/<path>`: a browser talking back, as the user its token says
/// (README, "Browser → server"). The head is checked before any of the body is read (`SendRequest`).
/// To an HTTP backend the body goes on as it arrives (`ForwardedSend`); to RabbitMQ it is read whole,
/// under the request's own limit and the node-wide `BodyBudget`, and `UpstreamSender` publishes it.
/// Where a send is (held, forwarded, dropped) and when it is answered, `HTTPConnectionStateMachine`
/// decides; these do what it says.
extension HTTPHandler {
    /// How a send's body is read, decided from its head before any of it is: held for RabbitMQ,
    /// forwarded to the backend as it arrives, or refused (`HTTPConnectionStateMachine.sendChecked`).
    func checkSend(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ kind: SendKind, _ rest: Substring) -> HTTPConnectionStateMachine.SendCheck {
        if sends.cors.refuses(head) {
            return .refuse(SendRefusal(.forbidden, "origin_not_allowed", "requests from this origin are not allowed"))
        }
        do {
            let request = try SendRequest(head: head, kind: kind, path: rest, authenticator: sends.authenticator, origins: sends.cors, limits: sends.limits)
            if sends.upstream.forwards { return .forward(ForwardedSend(request, body: SendBodyStream(channel: context.channel))) }
            let reservation = sends.upstream.budget.share()
            // An announced length is reserved at once: a body that cannot be held is not read into memory.
            guard reservation.cover(request.declaredLength ?? 0) else { return .refuse(.busy) }
            return .hold(request, reservation)
        } catch {
            return .refuse(error)
        }
    }

    /// Starts the forward with the checked head; the body follows as it arrives, and the backend's
    /// answer goes to the machine.
    func startForward(_ context: ChannelHandlerContext, _ forward: ForwardedSend) {
        let bound = NIOLoopBound((self, context, forward), eventLoop: context.eventLoop)
        forward.start(sends.upstream, on: context.eventLoop) { answer in
            let (handler, context, forward) = bound.value
            handler.perform(handler.machine.forwardAnswered(forward, answer), context)
        }
    }

    /// Publishes a held body to RabbitMQ, and answers with what came of it.
    func publish(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ request: SendRequest, _ reservation: BodyReservation, _ body: ByteBuffer) {
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
    }

    func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ answer: SendAnswer, close: Bool = false) {
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

    private static func headers(_ refusal: SendRefusal) -> [(String, String)] {
        refusal.retryAfter.map { [("Retry-After", String($0))] } ?? []
    }
}
