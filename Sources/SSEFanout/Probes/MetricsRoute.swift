import Logging
import NIOCore

/// `GET /metrics`: the Prometheus text exposition. Node-wide figures, so an API key reads them, not a
/// tenant's token.
struct MetricsRoute: HTTPRoute {
    let authenticator: Authenticator
    let metrics: NodeMetrics
    let hub: LocalHub
    let logger: Logger

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let credential = request.publisher(authenticator, responder, logger: logger) else { return }
        guard credential == .unrestricted || credential == .apiKey else {
            responder.respond(.forbidden, JSONBody.error("metrics_not_allowed", "metrics take an API key"))
            return
        }
        let body = ByteBuffer(bytes: metrics.exposition(openStreams: hub.connectionCount))
        responder.respond(.ok, body: body, contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
