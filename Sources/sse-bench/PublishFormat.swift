/// How a server takes a broadcast over HTTP.
enum PublishFormat: Sendable {
    /// sse-fanout: `POST /publish` with the publish JSON and a broadcast target.
    case sseFanout
    /// nginx+nchan: the raw payload POSTed to the channel's publisher location.
    case nchan

    /// The request body and headers that publish `payload` (plain ASCII: no JSON escaping needed).
    func request(payload: String) -> (headers: [(String, String)], body: [UInt8]) {
        switch self {
        case .sseFanout:
            let json = #"{"target":{"type":"broadcast"},"data":""# + payload + #""}"#
            return ([("Content-Type", "application/json")], Array(json.utf8))
        case .nchan:
            return ([("Content-Type", "text/plain")], Array(payload.utf8))
        }
    }
}
