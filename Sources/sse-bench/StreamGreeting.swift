/// What sse-fanout says first on a stream (`event: connected`): the ids a unicast publish targets.
struct StreamGreeting: Decodable, Sendable {
    var connectionId: String
    var nodeId: String?
}
