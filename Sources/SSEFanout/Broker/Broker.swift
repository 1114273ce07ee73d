/// Moves publications between nodes. `RabbitMQBroker` is the real one; `InProcessBroker`
/// serves the standalone mode and unit tests.
public protocol Broker: Sendable {
    /// Starts consuming this node's queue and the shared ingress and dead-letter queues; every message reaches `handler`,
    /// which must settle it. Returns at once: connecting happens in the background.
    func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws
    /// Sends a publish body to one node. Returns false when no such node queue exists (unroutable).
    func publish(_ body: [UInt8], toNode nodeID: String) async throws -> Bool
    /// Sends a publish body to every node.
    func broadcast(_ body: [UInt8]) async throws
    /// Keeps a malformed message for inspection (`sse.poison`), out of every consumer's way.
    func park(_ body: [UInt8]) async throws
    /// Stops taking new messages; messages already delivered can still be settled.
    func stopConsuming() async
    /// Closes everything.
    func shutdown() async
    /// nil while connected, otherwise why not.
    var notReadyReason: String? { get }
}
