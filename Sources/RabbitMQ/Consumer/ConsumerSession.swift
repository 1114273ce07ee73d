/// One established consumer connection: the channel's consumers and the generation that
/// deliveries on it carry.
struct ConsumerSession {
    let connection: AMQPConnection
    let generation: ConnectionGeneration
    /// Every consumer tag this connection has had, cancelled ones too: a delivery sent before its
    /// consumer was cancelled still arrives, and still names its queue.
    var queueByConsumerTag: [String: String]
    /// The consumer of each queue being consumed now.
    var consumerTagByQueue: [String: String]

    init(connection: AMQPConnection, generation: ConnectionGeneration, consumerTagByQueue: [String: String]) {
        self.connection = connection
        self.generation = generation
        self.consumerTagByQueue = consumerTagByQueue
        self.queueByConsumerTag = Dictionary(uniqueKeysWithValues: consumerTagByQueue.map { ($0.value, $0.key) })
    }
}
