/// The basic properties of a message that this service sets and reads.
public struct AMQPMessageProperties: Sendable, Equatable {
    public var contentType: String?
    public var messageId: String?
    /// Delivery mode 2 (stored on disk by durable queues) when true, 1 (transient) when false.
    public var persistent: Bool
    public var headers: [String: AMQPFieldValue]

    public init(
        contentType: String? = nil,
        messageId: String? = nil,
        persistent: Bool = true,
        headers: [String: AMQPFieldValue] = [:]
    ) {
        self.contentType = contentType
        self.messageId = messageId
        self.persistent = persistent
        self.headers = headers
    }
}
