import Logging

/// Sends a publication to the nodes that hold its target's connections: one message per owning node,
/// never one per connection; a broadcast is one message to the fanout exchange. Before that it
/// claims the publication id (a retried publish is accepted once) and keeps the event in its target's
/// history, so clients that reconnect, and users who are offline, get it later.
public struct Router: Sendable {
    public struct Result: Sendable, Equatable {
        public var id: String
        /// How many nodes the event was routed to.
        public var nodes: Int
        /// Kept in history: replayed on resume, delivered to an offline user when they connect.
        public var stored: Bool
        /// The id was already published within the retention: nothing was sent again.
        public var duplicate: Bool
    }

    public enum Failure: Error, CustomStringConvertible {
        case registryUnavailable(String)
        case historyUnavailable(String)
        case brokerUnavailable(String)

        public var description: String {
            switch self {
            case .registryUnavailable(let reason): "registry unavailable: \(reason)"
            case .historyUnavailable(let reason): "history unavailable: \(reason)"
            case .brokerUnavailable(let reason): "broker unavailable: \(reason)"
            }
        }
    }

    let registry: any Registry
    let broker: any Broker
    let history: any History
    let logger: Logger
    /// Publications to one target leave in the order they arrived.
    let lanes = PublishLanes()

    public init(registry: any Registry, broker: any Broker, history: any History, logger: Logger) {
        self.registry = registry
        self.broker = broker
        self.history = history
        self.logger = logger
    }

    /// Takes the publication's place in its target's lane: call it as the publication arrives,
    /// then `route` it with the ticket, so that it reaches streams after those that arrived before it.
    public func ticket(for publication: Publication) -> PublishTicket {
        lanes.ticket(for: publication.target)
    }

    /// Assigns an id if the publisher gave none, keeps the event, resolves the owning nodes and publishes.
    public func route(_ publication: Publication) async throws(Failure) -> Result {
        try await route(publication, ticket: ticket(for: publication))
    }

    /// `route`, in the place in its target's lane that `ticket` holds.
    public func route(_ publication: Publication, ticket: PublishTicket) async throws(Failure) -> Result {
        await ticket.waitTurn()
        defer { ticket.pass() }
        var publication = publication.withID(EventIDGenerator.next)
        let id = publication.id!
        do {
            guard try await history.claim(id) else {
                return Result(id: id, nodes: 0, stored: false, duplicate: true)
            }
        } catch {
            throw .historyUnavailable("\(error)")
        }
        let result: Result
        do {
            result = try await send(&publication, then: ticket.pass)
        } catch {
            // Part of it may have gone out: let the publisher's retry through (clients drop the repeat).
            await history.release(id)
            throw error
        }
        // Not completing (Redis just went away) only means a retry would send it again.
        try? await history.complete(id)
        return result
    }

    /// Routes again an event that reached a node its target has left; keeps its position.
    public func reroute(_ publication: Publication, awayFrom nodeID: String) async throws(Failure) -> Int {
        var publication = publication
        publication.hops += 1
        let nodes: Set<String>
        do {
            nodes = try await registry.nodes(for: publication.target)
        } catch {
            throw .registryUnavailable("\(error)")
        }
        return try await publish(publication, to: nodes.subtracting([nodeID]), then: {})
    }

    /// Keeps the event, looks up its nodes and hands it to the broker; calls `handedOver` as soon as
    /// the broker has it (before its confirm), so the next publication of the lane can go.
    private func send(_ publication: inout Publication, then handedOver: () -> Void) async throws(Failure) -> Result {
        var stored = false
        if !publication.ephemeral, let stream = HistoryStream(publication.target) {
            do {
                publication.position = try await history.append(PublicationCodec.encode(publication), to: stream)
            } catch {
                throw .historyUnavailable("\(error)")
            }
            stored = true
        }
        let nodes: Set<String>
        do {
            nodes = try await registry.nodes(for: publication.target)
        } catch {
            throw .registryUnavailable("\(error)")
        }
        if publication.target == .broadcast {
            let sent = broker.broadcast(PublicationCodec.encode(publication))
            handedOver()
            do {
                _ = try await sent.routed
            } catch {
                throw .brokerUnavailable("\(error)")
            }
            return Result(id: publication.id!, nodes: nodes.count, stored: stored, duplicate: false)
        }
        let routed = try await publish(publication, to: nodes, then: handedOver)
        return Result(id: publication.id!, nodes: routed, stored: stored, duplicate: false)
    }

    /// One message per node, all handed to the broker before any confirm is awaited.
    private func publish(_ publication: Publication, to nodes: Set<String>, then handedOver: () -> Void) async throws(Failure) -> Int {
        let body = PublicationCodec.encode(publication)
        let sends = nodes.sorted().map { broker.publish(body, toNode: $0) }
        handedOver()
        var routed = 0
        var failure: (any Error)?
        for sent in sends {
            do {
                if try await sent.routed { routed += 1 }
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw .brokerUnavailable("\(failure)") }
        return routed
    }
}
