/// The exchanges, queues and bindings a publisher or consumer needs.
///
/// Declared on every (re)connect; declarations are idempotent as long as the same names are
/// always declared with the same settings, otherwise the broker refuses with PRECONDITION_FAILED.
public struct AMQPTopology: Sendable {
    public struct Exchange: Sendable {
        public var name: String
        public var type: AMQPExchangeType
        public var durable: Bool
        /// Deleted by the broker once its last binding is removed (after having had one).
        public var autoDelete: Bool

        public init(name: String, type: AMQPExchangeType, durable: Bool = true, autoDelete: Bool = false) {
            self.name = name
            self.type = type
            self.durable = durable
            self.autoDelete = autoDelete
        }
    }

    public struct Queue: Sendable {
        public var name: String
        public var durable: Bool
        public var exclusive: Bool
        public var autoDelete: Bool
        /// Optional queue arguments, e.g. "x-dead-letter-exchange", "x-expires", "x-message-ttl".
        public var arguments: [String: AMQPFieldValue]

        public init(
            name: String,
            durable: Bool = true,
            exclusive: Bool = false,
            autoDelete: Bool = false,
            arguments: [String: AMQPFieldValue] = [:]
        ) {
            self.name = name
            self.durable = durable
            self.exclusive = exclusive
            self.autoDelete = autoDelete
            self.arguments = arguments
        }
    }

    public struct Binding: Sendable {
        public var queue: String
        public var exchange: String
        public var routingKey: String

        public init(queue: String, exchange: String, routingKey: String) {
            self.queue = queue
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]
    /// Bindings to take away, of queues that may or may not exist (an earlier version's): a queue
    /// whose settings changed needs a new name, and the old one must stop receiving copies.
    public var retiredBindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = [], retiredBindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
        self.retiredBindings = retiredBindings
    }
}
