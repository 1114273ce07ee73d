import Logging
import NIOCore

/// `GET /presence/...`: who is online, cluster-wide (`PresenceRoutes`), for a publisher credential; one
/// confined to a tenant sees that tenant only, and a token what its patterns reach.
struct PresenceRoute: HTTPRoute {
    let authenticator: Authenticator
    let presence: any Presence
    let logger: Logger

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let credential = request.publisher(authenticator, responder, logger: logger) else { return }
        let presence = self.presence
        let logger = self.logger
        let uri = request.head.uri
        request.eventLoop.makeFutureWithTask {
            await PresenceRoutes.answer(uri: uri, presence: presence, credential: credential)
        }.whenSuccess { answer in
            if answer.status != .ok {
                logger.info("refused presence request", metadata: ["status": "\(answer.status.code)"])
            }
            responder.respond(answer.status, answer.body)
        }
    }
}
