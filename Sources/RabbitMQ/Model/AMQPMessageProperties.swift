/// The basic properties of a message that this service sets and reads.
public struct AMQPMessageProperties: Sendable, Equatable {
    public var contentType: String?
    public var messageId: String?
    /// Delivery mode 2 (stored on disk by durable queues) when true, 1 (transient) when false.
    public var persistent: Bool
    public var headers: [String: AMQPFieldValue]
    /// Per-message TTL in milliseconds: past it the broker dead-letters the message if its queue has
    /// a dead-letter exchange (RabbitMQ expires messages as they reach the head of the queue).
    public var expirationMilliseconds: Int?

    public init(
        contentType: String? = nil,
        messageId: String? = nil,
        persistent: Bool = true,
        headers: [String: AMQPFieldValue] = [:],
        expirationMilliseconds: Int? = nil
    ) {
        self.contentType = contentType
        self.messageId = messageId
        self.persistent = persistent
        self.headers = headers
        self.expirationMilliseconds = expirationMilliseconds
    }
}
