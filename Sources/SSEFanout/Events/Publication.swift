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

    public init(target: Target, event: String? = nil, data: EventData, id: String? = nil, retry: Int? = nil) {
        self.target = target
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
    }

    /// A copy that carries an id, assigning a fresh one if it has none.
    public func withID(_ make: () -> String) -> Publication {
        guard id == nil else { return self }
        var copy = self
        copy.id = make()
        return copy
    }
}
