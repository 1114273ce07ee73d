/// An ack or reject requested from any thread, carried out by the consumer's thread.
struct Acknowledgement: Sendable {
    enum Kind: Sendable {
        case ack
        case reject(requeue: Bool)
    }

    let kind: Kind
    let deliveryTag: UInt64
    /// The connection the delivery came on; on any other connection its tag means nothing.
    let connectionGeneration: ConnectionGeneration
}
