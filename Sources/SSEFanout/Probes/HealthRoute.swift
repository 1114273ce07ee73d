/// `GET /healthz` (and `HEAD`): the process answers. Says nothing of Redis or RabbitMQ (`/readyz` does).
struct HealthRoute: HTTPRoute {
    let nodeID: String

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        responder.respond(.ok, request.head.method == .HEAD ? nil : JSONBody.encode(["status": "ok", "nodeId": nodeID]))
    }
}
