/// What a queue holds right now, as a passive `queue.declare` reports it.
public struct AMQPQueueDepth: Sendable, Equatable {
    public var queue: String
    /// Messages ready for delivery (not those delivered and not yet acked); nil when the queue does not exist.
    public var messages: Int?
    /// Consumers taking from it; nil when the queue does not exist.
    public var consumers: Int?

    public init(queue: String, messages: Int?, consumers: Int?) {
        self.queue = queue
        self.messages = messages
        self.consumers = consumers
    }
}
