import Logging
import NIOHTTP1

/// `POST /publish` (README, "POST /publish"): one publication or an array, checked against the
/// publisher's credential, handed to the router on arrival (publications to one target leave in this
/// order), answered once the router settled every one.
struct PublishRoute: HTTPRoute {
    let authenticator: Authenticator
    let router: Router
    /// `http.maxBatchItems`.
    let maxBatchItems: Int
    let logger: Logger

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard request.requireJSON(responder), let credential = request.publisher(authenticator, responder, logger: logger) else { return }
        var publications: [Publication]
        let isBatch: Bool
        do {
            (publications, isBatch) = try PublicationCodec.decodeBatch(request.body, maxItems: maxBatchItems)
        } catch {
            logger.info("refused publish", metadata: ["error": "\(error)"])
            responder.respond(.badRequest, JSONBody.error(error.code, error.message))
            return
        }
        guard let authorized = authorize(publications, credential, responder) else { return }
        publications = authorized
        let answers = PublishAnswers(count: publications.count)
        let detailed = credential.isFullRights
        let logger = self.logger
        router.submit(publications) { index, outcome in
            guard let all = answers.set(index, outcome) else { return }
            Self.answer(all, isBatch: isBatch, detailed: detailed, responder, logger: logger)
        }
    }

    /// Checks every target against the credential; a credential confined to a tenant addresses its own
    /// tenant when a target names none. Answers 403 and returns nil when one is not allowed.
    private func authorize(_ publications: [Publication], _ credential: PublisherCredential, _ responder: HTTPResponder) -> [Publication]? {
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
                    responder.respond(error.status, JSONBody.error(error.code, message))
                    return nil
                }
            }
        }
        return publications
    }

    /// One publish object gets one answer; an array gets an array of answers in the same order: 202 when
    /// every item was routed, 409 when the only failures are ids another attempt holds (retry later),
    /// else 503 (a store was away; the failed items say why).
    private static func answer(
        _ outcomes: [Result<Router.Result, Router.Failure>], isBatch: Bool, detailed: Bool, _ responder: HTTPResponder, logger: Logger
    ) {
        var failure: Router.Failure?
        for case .failure(let error) in outcomes where failure == nil { failure = error }
        if let failure {
            logger.warning("publish failed", metadata: ["error": "\(failure)", "of": "\(outcomes.count)"])
        }
        let unavailable = outcomes.contains { if case .failure(let error) = $0, error.code != "in_flight" { true } else { false } }
        let status: HTTPResponseStatus = failure == nil ? .accepted : unavailable ? .serviceUnavailable : .conflict
        let body = isBatch ? PublishAnswers.encode(outcomes, detailed: detailed) : PublishAnswers.encode(outcomes[0], detailed: detailed)
        responder.respond(status, body)
    }
}
