/// How a server takes a publish.
enum PublishFormat: Sendable {
    /// sse-fanout: the publish JSON, to `POST /publish` or as an AMQP message body.
    case sseFanout
    /// nginx+nchan: the raw payload POSTed to the channel's publisher location (always a broadcast to it).
    case nchan

    var contentType: String {
        switch self {
        case .sseFanout: "application/json"
        case .nchan: "text/plain"
        }
    }

    /// The body that publishes `payload` (plain ASCII: no JSON escaping needed) to `target`.
    func body(payload: String, target: PublishTarget) -> [UInt8] {
        switch self {
        case .sseFanout:
            Array((#"{"target":"# + target.json + #","data":""# + payload + #""}"#).utf8)
        case .nchan:
            Array(payload.utf8)
        }
    }
}
