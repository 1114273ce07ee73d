/// What the broker did with a published message.
public enum AMQPPublishOutcome: Sendable, Equatable {
    /// The broker acked the message: it is routed to (and, when persistent, stored by) every bound queue.
    case confirmed
    /// The message was published with `mandatory` and no queue was bound for its routing key.
    case returned
}
