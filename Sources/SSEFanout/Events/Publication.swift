/// One event addressed to a target: what `POST /publish` accepts and what travels on RabbitMQ.
public struct Publication: Sendable, Hashable {
    public var target: Target
    /// The SSE event name; nil sends an unnamed event (`message` in the browser).
    public var event: String?
    public var data: EventData
    /// The SSE id. Publishers may set it; the node assigns one when they don't.
    public var id: String?
    /// Reconnection time hint in milliseconds, sent as the SSE `retry:` field.
    public var retry: Int?
    /// Not kept in history and never replayed: for things like typing indicators.
    public var ephemeral: Bool
    /// Where the event was kept in its target's history stream; set by the routing node.
    public var position: StreamPosition?
    /// How many times a node passed the event on after finding its target gone (stale routes).
    public var hops: Int

    public init(
        target: Target, event: String? = nil, data: EventData, id: String? = nil, retry: Int? = nil,
        ephemeral: Bool = false, position: StreamPosition? = nil, hops: Int = 0
    ) {
        self.target = target
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
        self.ephemeral = ephemeral
        self.position = position
        self.hops = hops
    }

    /// A copy that carries an id, assigning a fresh one if it has none.
    public func withID(_ make: () -> String) -> Publication {
        guard id == nil else { return self }
        var copy = self
        copy.id = make()
        return copy
    }
}
