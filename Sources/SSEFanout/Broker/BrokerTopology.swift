import RabbitMQ

/// The RabbitMQ names the cluster shares (README, "AMQP contract").
public enum BrokerTopology {
    /// Direct exchange for producers: routing key = node id, bound to that node's queue.
    public static let directExchange = "sse.direct"
    /// Fanout exchange for producers, bound to every node queue.
    public static let broadcastExchange = "sse.broadcast"
    /// Topic exchange that only nodes publish to (RabbitMQ permissions keep producers off it): what
    /// arrives through it may carry the fields nodes set. Routing keys `node.<id>` and `broadcast`.
    public static let internalExchange = "sse.internal"
    public static let internalBroadcastKey = "broadcast"
    /// Control messages (kicks) for every node, on the internal exchange.
    public static let controlKey = "control"
    public static func internalKey(node nodeID: String) -> String { "node.\(nodeID)" }
    /// Exchange for producers that don't know the owning node; one shared queue, consumed by all nodes.
    public static let ingressExchange = "sse.ingress"
    public static let ingressQueue = "sse.ingress"
    /// Where node and ingress queues dead-letter to: messages that expired in a dead node's queue
    /// (nodes consume this queue and reroute them) and rejected, malformed ones.
    public static let deadLetterExchange = "sse.dead-letter"
    public static let deadLetterQueue = "sse.dead-letter"
    /// Topic exchange for backends: nodes publish lifecycle events (`connection.opened`, `user.online`,
    /// …; routing key = event name) for whoever binds a queue.
    public static let lifecycleExchange = "sse.lifecycle"
    /// Topic exchange for backends: browsers' sends and uploads (`POST /send/<path>`, `/upload/<path>`),
    /// routing key = the path with `/` as `.`; bind a queue to take them.
    public static let upstreamExchange = "sse.upstream"
    /// Malformed messages, parked for inspection (published through the default exchange).
    public static let poisonQueue = "sse.poison"

    public static func nodeQueue(_ nodeID: String) -> String { "sse.node.\(nodeID)" }

    /// Exchanges and the shared queues: what any publisher needs.
    public static var shared: AMQPTopology {
        AMQPTopology(
            exchanges: [
                .init(name: directExchange, type: .direct),
                .init(name: internalExchange, type: .topic),
                .init(name: broadcastExchange, type: .fanout),
                // Fanout, so a producer may use any routing key.
                .init(name: ingressExchange, type: .fanout),
                .init(name: deadLetterExchange, type: .fanout),
                .init(name: lifecycleExchange, type: .topic),
                .init(name: upstreamExchange, type: .topic),
            ],
            queues: [
                .init(name: ingressQueue, arguments: ["x-dead-letter-exchange": .string(deadLetterExchange)]),
                .init(name: deadLetterQueue, arguments: ["x-max-length": .int(10_000)]),
                // Bounded: the oldest poison messages are dropped past this length.
                .init(name: poisonQueue, arguments: ["x-max-length": .int(10_000)]),
            ],
            bindings: [
                .init(queue: ingressQueue, exchange: ingressExchange, routingKey: ""),
                .init(queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: ""),
            ]
        )
    }

    /// The shared topology plus this node's queue and its bindings.
    public static func node(_ nodeID: String, queueExpiry: Duration) -> AMQPTopology {
        var topology = shared
        let queue = nodeQueue(nodeID)
        let (seconds, _) = queueExpiry.components
        topology.queues.append(.init(name: queue, arguments: [
            "x-dead-letter-exchange": .string(deadLetterExchange),
            // A node id that never comes back must not leave its queue behind forever.
            "x-expires": .int(seconds * 1000),
        ]))
        topology.bindings.append(.init(queue: queue, exchange: directExchange, routingKey: nodeID))
        topology.bindings.append(.init(queue: queue, exchange: broadcastExchange, routingKey: ""))
        topology.bindings.append(.init(queue: queue, exchange: internalExchange, routingKey: internalKey(node: nodeID)))
        topology.bindings.append(.init(queue: queue, exchange: internalExchange, routingKey: internalBroadcastKey))
        topology.bindings.append(.init(queue: queue, exchange: internalExchange, routingKey: controlKey))
        return topology
    }
}
