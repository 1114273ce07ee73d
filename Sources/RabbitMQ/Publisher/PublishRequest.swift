/// One `publish` call waiting for the publisher's thread: the message and the caller to resume.
struct PublishRequest: Sendable {
    let exchange: String
    let routingKey: String
    let body: [UInt8]
    let properties: AMQPMessageProperties
    let mandatory: Bool
    private let continuation: CheckedContinuation<AMQPPublishOutcome, any Error>

    init(
        exchange: String, routingKey: String, body: [UInt8], properties: AMQPMessageProperties, mandatory: Bool,
        continuation: CheckedContinuation<AMQPPublishOutcome, any Error>
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
        self.continuation = continuation
    }

    /// Resumes the caller; must be called exactly once per request.
    func complete(_ result: Result<AMQPPublishOutcome, AMQPError>) {
        continuation.resume(with: result.mapError { $0 })
    }
}
