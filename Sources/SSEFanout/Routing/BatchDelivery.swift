/// The messages one routed batch becomes: for each owning node, one message carrying every event of
/// the batch for that node, in batch order; for broadcasts, one message to the fanout exchange.
/// A message with one event is that event's publish JSON; with more, a JSON array of them.
struct BatchDelivery {
    /// One message handed to the broker, and the batch indexes of the events it carries.
    struct Send: Sendable {
        var handle: BrokerSend
        var items: [Int]
    }

    private var bodies: [[UInt8]?]
    private var byNode: [String: [Int]] = [:]
    private var broadcasts: [Int] = []

    init(size: Int) {
        bodies = Array(repeating: nil, count: size)
    }

    mutating func add(_ index: Int, body: [UInt8], target: Address, nodes: Set<String>) {
        bodies[index] = body
        if target.kind == .broadcast {
            broadcasts.append(index)
        } else {
            for node in nodes { byNode[node, default: []].append(index) }
        }
    }

    /// Hands every message to the broker now, broadcasts first, then nodes by id.
    func send(through broker: any Broker) -> [Send] {
        var sends: [Send] = []
        if !broadcasts.isEmpty {
            sends.append(Send(handle: broker.broadcast(message(broadcasts)), items: broadcasts))
        }
        for node in byNode.keys.sorted() {
            let items = byNode[node]!
            sends.append(Send(handle: broker.publish(message(items), toNode: node), items: items))
        }
        return sends
    }

    private func message(_ items: [Int]) -> [UInt8] {
        PublicationCodec.encodeBatch(items.map { bodies[$0]! })
    }
}
