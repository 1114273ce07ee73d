/// One event addressed to one or more targets: what `POST /publish` accepts and what travels on RabbitMQ.
public struct Publication: Sendable, Hashable {
    /// Who gets it. Routing splits a publication with several targets into one per target (its legs),
    /// so what travels between nodes always has one; a stream that matches several gets it once.
    public var targets: [Address]
    /// The SSE event name; nil sends an unnamed event (`message` in the browser).
    public var event: String?
    public var data: EventData
    /// The SSE id. Publishers may set it; the node assigns one when they don't.
    public var id: String?
    /// Reconnection time hint in milliseconds, sent as the SSE `retry:` field.
    public var retry: Int?
    /// Not kept in history and never replayed: for things like typing indicators.
    public var ephemeral: Bool
    /// Where the event was kept in its target's history stream; set by the routing node, trusted only
    /// from other nodes.
    public var position: StreamPosition?
    /// How many times a node passed the event on after finding its target gone (stale routes); set by
    /// nodes only.
    public var hops: Int
    /// When the routing node accepted it, in microseconds since 1970: the start of the delivery
    /// latency (`sse_delivery_latency_seconds`). Set by nodes only.
    public var acceptedAt: Int64? = nil

    /// The most targets one publication may name.
    public static let maxTargets = 64

    public init(
        targets: [Address], event: String? = nil, data: EventData, id: String? = nil, retry: Int? = nil,
        ephemeral: Bool = false, position: StreamPosition? = nil, hops: Int = 0
    ) {
        precondition(!targets.isEmpty, "a publication needs a target")
        self.targets = targets
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
        self.ephemeral = ephemeral
        self.position = position
        self.hops = hops
    }

    public init(
        target: Address, event: String? = nil, data: EventData, id: String? = nil, retry: Int? = nil,
        ephemeral: Bool = false, position: StreamPosition? = nil, hops: Int = 0
    ) {
        self.init(targets: [target], event: event, data: data, id: id, retry: retry, ephemeral: ephemeral, position: position, hops: hops)
    }

    /// The first (for a leg: the only) target.
    public var target: Address { targets[0] }

    /// A copy that carries an id, assigning a fresh one if it has none.
    public func withID(_ make: () -> String) -> Publication {
        guard id == nil else { return self }
        var copy = self
        copy.id = make()
        return copy
    }

    /// One publication per target, each with this one's id and fields: what routing keeps and sends.
    public var legs: [Publication] {
        guard targets.count > 1 else { return [self] }
        return targets.map { target in
            var leg = self
            leg.targets = [target]
            return leg
        }
    }
}
