/// Moves publications between nodes. `RabbitMQBroker` is the real one; `InProcessBroker`
/// serves the standalone mode and unit tests. `BrokerContractTests` holds both to what is written here.
///
/// The sends (`publish`, `broadcast`, `sendControl`, `publishLifecycle`, `publishUpstream`) return a
/// `BrokerSend` at once; its `whenRouted` completion never runs inside the call it was handed to, so a
/// caller holding a lock or on an event loop cannot deadlock or re-enter. Beyond that, where it runs
/// is the broker's choice (`RabbitMQBroker`: the publisher's thread, or a task when the outcome was
/// known at once; `InProcessBroker`: a task). Deliveries reach the handler on the consumer's thread
/// (`RabbitMQBroker`), or inside the call that sent them (`InProcessBroker`).
public protocol Broker: Sendable {
    /// Starts consuming this node's queue and the shared ingress and dead-letter queues; every message reaches `handler`,
    /// which must settle it. Returns at once: connecting happens in the background. Nothing is sent
    /// through a broker before it started.
    func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws
    /// Hands a publish body for one node to the broker now, without suspending: publishes leave in
    /// the order of these calls, and one node's handler gets them in that order, as `.node`, trusted.
    /// Its `routed` is false when no such node queue exists (unroutable): nothing is delivered.
    func publish(_ body: [UInt8], toNode nodeID: String) -> BrokerSend
    /// Hands a publish body for every node to the broker now (see `publish`): each node's handler gets
    /// it once, as `.node`, trusted. Routed once the broker took it, however many nodes there are.
    func broadcast(_ body: [UInt8]) -> BrokerSend
    /// Hands a control message (a kick) for every node to the broker now, on the path only nodes may
    /// publish to; it reaches handlers as `.control`, trusted.
    func sendControl(_ body: [UInt8]) -> BrokerSend
    /// Hands a lifecycle event (README, "Lifecycle events") to the broker now, without suspending:
    /// the `sse.lifecycle` topic exchange, routing key `event` (`user.online`, …). Nobody need be
    /// listening: an event no queue is bound for is dropped. Its `routed` is true once the broker took it.
    func publishLifecycle(_ body: [UInt8], event: String) -> BrokerSend
    /// Hands a browser's send or upload (README, "Browser → server") to the broker now, without
    /// suspending: the `sse.upstream` topic exchange, routing key from its path, persistent, with
    /// `headers` (`x-sse-user`, …). Its `routed` is true once the broker confirmed it, false when no
    /// queue is bound for the key (nobody would get it).
    func publishUpstream(_ body: [UInt8], routingKey: String, messageID: String, headers: [String: String]) -> BrokerSend
    /// Keeps a malformed or oversized message for inspection (`sse.poison`), out of every consumer's
    /// way, with why (`reason`: header `x-sse-reason`).
    func park(_ body: [UInt8], reason: String) async throws
    /// Stops (`false`) or starts again (`true`) taking messages from the queues every node shares
    /// (`sse.ingress`, `sse.dead-letter`): a node that cannot route leaves them to the nodes that can.
    /// Their messages wait meanwhile, for this node once it consumes them again or for another.
    /// Its own queue is consumed either way. May be called before `start`.
    func consumeSharedQueues(_ consume: Bool)
    /// Stops taking new messages; messages already delivered can still be settled. The node's queue
    /// stays: sends to it are still routed, and nothing reaches the handler any more.
    func stopConsuming() async
    /// Closes everything: nothing reaches the handler any more, and later sends fail.
    func shutdown() async
    /// nil while connected, otherwise why not (after `shutdown`, that it is shut down).
    var notReadyReason: String? { get }
}

extension Broker {
    /// A broker without shared queues has nothing to stop.
    public func consumeSharedQueues(_ consume: Bool) {}
}
