import Logging
import NIOCore
import NIOHTTP1

/// `POST /disconnect`: a kick (see `Kick`), for a credential that may address its target, answered 202
/// with how many nodes held the target.
struct KickRoute: HTTPRoute {
    let authenticator: Authenticator
    let kicker: KickSender
    let logger: Logger

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard request.requireJSON(responder), let credential = request.publisher(authenticator, responder, logger: logger) else { return }
        var kick: Kick
        do {
            kick = try Kick.decodeRequest(request.body)
        } catch {
            logger.info("refused disconnect", metadata: ["error": "\(error)"])
            responder.respond(.badRequest, JSONBody.error(error.code, error.message))
            return
        }
        if let tenant = credential.confinedTenant, kick.target.tenant.isEmpty { kick.target = kick.target.scoped(to: tenant) }
        do {
            try credential.check(kick.target)
        } catch {
            logger.info("refused disconnect", metadata: ["error": "\(error.code)", "target": "\(kick.target)"])
            responder.respond(error.status, JSONBody.error(error.code, error.message))
            return
        }
        let kicker = self.kicker
        let logger = self.logger
        request.eventLoop.makeFutureWithTask { [kick] in
            try await kicker.send(kick)
        }.whenComplete { result in
            switch result {
            case .success(let nodes):
                responder.respond(.accepted, JSONBody.encode(["target": kick.target.key, "nodes": nodes, "reconnect": kick.reconnect] as [String: Any]))
            case .failure(let error):
                logger.warning("disconnect failed", metadata: ["error": "\(error)"])
                let message = credential.isFullRights ? "\(error)" : "the kick could not be sent (Redis or RabbitMQ unreachable); retry it"
                responder.respond(.serviceUnavailable, JSONBody.error("unavailable", message))
            }
        }
    }
}
