import Logging

/// Sends a publication to the nodes that hold its target's connections: one message per owning node,
/// never one per connection; a broadcast is one message to the fanout exchange.
public struct Router: Sendable {
    public struct Result: Sendable, Equatable {
        public var id: String
        /// How many nodes the event was routed to.
        public var nodes: Int
    }

    public enum Failure: Error, CustomStringConvertible {
        case registryUnavailable(String)
        case brokerUnavailable(String)

        public var description: String {
            switch self {
            case .registryUnavailable(let reason): "registry unavailable: \(reason)"
            case .brokerUnavailable(let reason): "broker unavailable: \(reason)"
            }
        }
    }

    let registry: any Registry
    let broker: any Broker
    let logger: Logger

    public init(registry: any Registry, broker: any Broker, logger: Logger) {
        self.registry = registry
        self.broker = broker
        self.logger = logger
    }

    /// Assigns an id if the publisher gave none, resolves the owning nodes and publishes.
    public func route(_ publication: Publication) async throws(Failure) -> Result {
        let publication = publication.withID(EventIDGenerator.next)
        let id = publication.id!
        let nodes: Set<String>
        do {
            nodes = try await registry.nodes(for: publication.target)
        } catch {
            throw .registryUnavailable("\(error)")
        }
        let body = PublicationCodec.encode(publication)
        do {
            if publication.target == .broadcast {
                try await broker.broadcast(body)
                return Result(id: id, nodes: nodes.count)
            }
            var routed = 0
            for node in nodes.sorted() where try await broker.publish(body, toNode: node) {
                routed += 1
            }
            return Result(id: id, nodes: routed)
        } catch {
            throw .brokerUnavailable("\(error)")
        }
    }
}
