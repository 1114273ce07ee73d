/// One `submit` waiting for the publisher's thread: the message and the caller to resume.
struct PublishRequest: Sendable {
    let exchange: String
    let routingKey: String
    let body: [UInt8]
    let properties: AMQPMessageProperties
    let mandatory: Bool
    private let pending: AMQPPendingPublish

    init(
        exchange: String, routingKey: String, body: [UInt8], properties: AMQPMessageProperties, mandatory: Bool,
        pending: AMQPPendingPublish
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
        self.pending = pending
    }

    /// Hands the outcome to whoever awaits it; only the first call counts.
    func complete(_ result: Result<AMQPPublishOutcome, AMQPError>) {
        pending.complete(result)
    }
}
