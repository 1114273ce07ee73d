/// Something the broker sent on an open connection, as `AMQPConnection.receive` reports it.
enum InboundEvent {
    /// A message for one of our consumers (basic.deliver with its content).
    case delivery(InboundDelivery)
    /// Publisher confirm: the broker took responsibility for the message(s).
    case publisherAck(deliveryTag: UInt64, multiple: Bool)
    /// Publisher confirm: the broker could not take responsibility for the message(s).
    case publisherNack(deliveryTag: UInt64, multiple: Bool)
    /// A mandatory message that could not be routed; its ack follows.
    case returned(messageId: String?, reason: String)
    /// The broker cancelled one of our consumers, e.g. because its queue was deleted.
    case consumerCancelled(consumerTag: String)
    /// The broker stopped reading from this connection (resource alarm), or resumed.
    case connectionBlocked(reason: String)
    case connectionUnblocked
    /// A method this module has no use for, by name.
    case ignored(String)
}

/// A basic.deliver with its content, before the consumer adds its own bookkeeping.
struct InboundDelivery {
    var consumerTag: String
    var deliveryTag: UInt64
    var redelivered: Bool
    var exchange: String
    var routingKey: String
    var properties: AMQPMessageProperties
    var body: [UInt8]
}
