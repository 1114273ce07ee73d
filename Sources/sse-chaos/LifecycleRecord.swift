/// One lifecycle event as a backend bound to `sse.lifecycle` reads it (README, "Lifecycle events").
struct LifecycleRecord: Decodable, Sendable {
    var event: String
    var user: String?
    var connectionId: String?
    var node: String
    var seq: Int64
    var reason: String?
    /// Its place in the order the listener received them.
    var arrival = 0

    private enum CodingKeys: String, CodingKey {
        case event, user, connectionId, node, seq, reason
    }
}
