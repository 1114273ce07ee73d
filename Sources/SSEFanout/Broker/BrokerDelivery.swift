/// A message taken from the broker. The receiver settles it exactly once.
public struct BrokerDelivery: Sendable {
    public enum Source: Sendable, Equatable {
        /// This node's own queue: events routed to it (direct or broadcast).
        case node
        /// A control message from another node (a kick), on this node's own queue.
        case control
        /// The shared ingress queue: events from producers that did not look up the owning node.
        case ingress
        /// The shared dead-letter queue: messages that expired in a node's queue (the node is gone)
        /// or were rejected as malformed. `queue` is where they died.
        case deadLetter(reason: String, queue: String)
    }

    public enum Disposition: Sendable, Equatable {
        case ack
        /// `requeue: false` dead-letters the message (poison); `true` gives it back for another try.
        case reject(requeue: Bool)
    }

    public var body: [UInt8]
    public var source: Source
    /// Sent by a node, on a path producers cannot publish to (`BrokerTopology.internalExchange`): only
    /// then may it carry the fields nodes set (`position`, `hops`).
    public var trusted: Bool
    public var redelivered: Bool
    private let settleHandler: @Sendable (Disposition) -> Void

    public init(
        body: [UInt8], source: Source, trusted: Bool = false, redelivered: Bool, settle: @escaping @Sendable (Disposition) -> Void
    ) {
        self.body = body
        self.source = source
        self.trusted = trusted
        self.redelivered = redelivered
        self.settleHandler = settle
    }

    public func settle(_ disposition: Disposition) { settleHandler(disposition) }
}
