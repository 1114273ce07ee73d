/// Moves publications between nodes. `RabbitMQBroker` is the real one; `InProcessBroker`
/// serves the standalone mode and unit tests.
public protocol Broker: Sendable {
    /// Starts consuming this node's queue and the shared ingress and dead-letter queues; every message reaches `handler`,
    /// which must settle it. Returns at once: connecting happens in the background.
    func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws
    /// Hands a publish body for one node to the broker now, without suspending: publishes leave in
    /// the order of these calls. Its `routed` is false when no such node queue exists (unroutable).
    func publish(_ body: [UInt8], toNode nodeID: String) -> BrokerSend
    /// Hands a publish body for every node to the broker now (see `publish`).
    func broadcast(_ body: [UInt8]) -> BrokerSend
    /// Hands a control message (a kick) for every node to the broker now, on the path only nodes may
    /// publish to; it reaches handlers as `.control`.
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
    /// Its own queue is consumed either way. May be called before `start`.
    func consumeSharedQueues(_ consume: Bool)
    /// Stops taking new messages; messages already delivered can still be settled.
    func stopConsuming() async
    /// Closes everything.
    func shutdown() async
    /// nil while connected, otherwise why not.
    var notReadyReason: String? { get }
}

extension Broker {
    /// A broker without shared queues (in-process) has nothing to stop.
    public func consumeSharedQueues(_ consume: Bool) {}
}
