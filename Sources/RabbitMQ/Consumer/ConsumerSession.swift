/// One established consumer connection: the channel's consumers and the generation that
/// deliveries on it carry.
struct ConsumerSession {
    let connection: AMQPConnection
    let generation: ConnectionGeneration
    let queueByConsumerTag: [String: String]
}
