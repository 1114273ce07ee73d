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
    /// In demo mode: where the demo page's uploads (`POST /upload/demo/…`, routing keys `demo.#` on
    /// `sse.upstream`) land, so they are routed rather than refused, and the admin page can count them.
    public static let demoUploadsQueue = "sse.demo.uploads"

    /// The demo's queue: the latest 100 uploads, older ones dropped.
    public static var demo: AMQPTopology {
        AMQPTopology(
            exchanges: [.init(name: upstreamExchange, type: .topic)],
            queues: [.init(name: demoUploadsQueue, arguments: ["x-max-length": .int(100)])],
            bindings: [.init(queue: demoUploadsQueue, exchange: upstreamExchange, routingKey: "demo.#")]
        )
    }

    /// A node's own queue. `v2`: declared with a queue-wide time to live (`x-message-ttl`), which a
    /// queue RabbitMQ already holds cannot be given, so it has a name of its own.
    public static func nodeQueue(_ nodeID: String) -> String { "sse.node.v2.\(nodeID)" }
    /// The queue earlier versions declared for a node, whose messages each carried their own time to live.
    public static func legacyNodeQueue(_ nodeID: String) -> String { "sse.node.\(nodeID)" }

    /// The node a node queue (either name) belongs to; nil for other queues.
    public static func nodeID(ofQueue queue: String) -> String? {
        for prefix in [nodeQueue(""), legacyNodeQueue("")] where queue.hasPrefix(prefix) {
            return String(queue.dropFirst(prefix.count))
        }
        return nil
    }

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

    /// The shared topology plus this node's queue and its bindings, and the bindings of the queue an
    /// earlier version declared for this node taken away.
    ///
    /// Every message in the queue lives `messageTTL` (`x-message-ttl`), whatever sent it: RabbitMQ
    /// expires messages only from the head of a queue, so if they lived for different times (a kick
    /// for 30 s, an event for 2, a producer's message for ever) one at the head would hold back the
    /// expiry, and so the rerouting, of every message behind it once the node died.
    public static func node(_ nodeID: String, queueExpiry: Duration, messageTTL: Duration) -> AMQPTopology {
        var topology = shared
        let queue = nodeQueue(nodeID)
        topology.queues.append(.init(name: queue, arguments: [
            "x-dead-letter-exchange": .string(deadLetterExchange),
            // A node id that never comes back must not leave its queue behind forever.
            "x-expires": .int(milliseconds(queueExpiry)),
            "x-message-ttl": .int(milliseconds(messageTTL)),
        ]))
        topology.bindings += bindings(of: queue, node: nodeID)
        // It keeps what it holds, which runs out (each message had its own time to live) into the
        // dead-letter queue, and the queue itself expires unused.
        topology.retiredBindings = bindings(of: legacyNodeQueue(nodeID), node: nodeID)
        return topology
    }

    private static func bindings(of queue: String, node nodeID: String) -> [AMQPTopology.Binding] {
        [
            .init(queue: queue, exchange: directExchange, routingKey: nodeID),
            .init(queue: queue, exchange: broadcastExchange, routingKey: ""),
            .init(queue: queue, exchange: internalExchange, routingKey: internalKey(node: nodeID)),
            .init(queue: queue, exchange: internalExchange, routingKey: internalBroadcastKey),
            .init(queue: queue, exchange: internalExchange, routingKey: controlKey),
        ]
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
