/// `GET /readyz` (and `HEAD`): 200 when the node can serve (`ReadinessCheck`), else 503 with why. What
/// a store answered (its host, port and error) is for an operator's key only; a probe learns which
/// store is away.
struct ReadinessRoute: HTTPRoute {
    let nodeID: String
    let readiness: ReadinessCheck
    let authenticator: Authenticator

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let (nodeID, readiness, authenticator) = (self.nodeID, self.readiness, self.authenticator)
        let headers = request.head.headers
        request.eventLoop.makeFutureWithTask {
            await readiness.problems()
        }.whenSuccess { problems in
            if problems.isEmpty {
                responder.respond(.ok, JSONBody.encode(["status": "ready", "nodeId": nodeID]))
            } else {
                let detailed = (try? authenticator.publisher(headers: headers))?.isFullRights ?? false
                let reasons = detailed ? problems : problems.map { $0.components(separatedBy: ": ")[0] }
                responder.respond(.serviceUnavailable, JSONBody.encode(["status": "unavailable", "nodeId": nodeID, "reasons": reasons]))
            }
        }
    }
}
