/// A message received by an `AMQPConsumer`; pass it back to `ack` or `reject` once handled.
public struct AMQPDelivery: Sendable {
    public var body: [UInt8]
    public var exchange: String
    public var routingKey: String
    /// The queue it was consumed from.
    public var queue: String
    public var deliveryTag: UInt64
    /// True when the broker delivered it before and it was not acked (e.g. the consumer reconnected).
    public var redelivered: Bool
    public var properties: AMQPMessageProperties

    /// The connection it arrived on. Delivery tags are only meaningful on that connection, so an
    /// ack for a delivery from an earlier connection is dropped (the broker already requeued it).
    let connectionGeneration: ConnectionGeneration

    /// For tests and in-process stand-ins: such a delivery belongs to no connection, so a real
    /// consumer drops an ack or reject for it.
    public init(
        body: [UInt8],
        exchange: String,
        routingKey: String,
        queue: String,
        deliveryTag: UInt64,
        redelivered: Bool,
        properties: AMQPMessageProperties
    ) {
        self.init(
            body: body, exchange: exchange, routingKey: routingKey, queue: queue,
            deliveryTag: deliveryTag, redelivered: redelivered, properties: properties,
            connectionGeneration: .none
        )
    }

    init(
        body: [UInt8],
        exchange: String,
        routingKey: String,
        queue: String,
        deliveryTag: UInt64,
        redelivered: Bool,
        properties: AMQPMessageProperties,
        connectionGeneration: ConnectionGeneration
    ) {
        self.body = body
        self.exchange = exchange
        self.routingKey = routingKey
        self.queue = queue
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.properties = properties
        self.connectionGeneration = connectionGeneration
    }
}
