import Logging
import NIOConcurrencyHelpers

/// Settles every message the broker hands this node: events for this node go to its streams; ingress
/// messages are routed to their owning nodes; dead letters are rerouted (expired: their node died) or
/// parked (malformed). A malformed message is rejected (dead-lettered), never requeued. A message may
/// carry one publication or a JSON array of them (nodes send each other batches).
///
/// Only messages that came from another node (`BrokerDelivery.trusted`) may carry the fields nodes
/// set (`position`, `hops`); in anything a producer could have written they are ignored.
final class QueueConsumer: Sendable {
    private let nodeID: String
    private let hub: LocalHub
    private let router: Router
    private let broker: any Broker
    private let kicks: KickBars
    private let limits: Limits
    private let logger: Logger

    /// What a message from outside (a producer) may hold: the same as an HTTP publish by default.
    struct Limits: Sendable {
        var maxBytes: Int
        var maxItems: Int
    }

    /// How much of an oversized message is kept in `sse.poison`: enough to tell where it came from.
    static let parkedPrefix = 4096

    init(nodeID: String, hub: LocalHub, router: Router, broker: any Broker, kicks: KickBars, limits: Limits, logger: Logger) {
        self.limits = limits
        self.nodeID = nodeID
        self.hub = hub
        self.router = router
        self.broker = broker
        self.kicks = kicks
        self.logger = logger
    }

    func handle(_ delivery: BrokerDelivery) {
        if case .control = delivery.source { return control(delivery) }
        // Nodes' own messages are bounded by the router (a batch of at most 256); a producer's are not,
        // and RabbitMQ takes bodies of up to 128 MB: one must not hold the node's memory or its consumer.
        if !delivery.trusted, delivery.body.count > limits.maxBytes {
            logger.error("parking an oversized message", metadata: ["source": "\(delivery.source)", "bytes": "\(delivery.body.count)"])
            return park(delivery, reason: "too_large: \(delivery.body.count) bytes, at most \(limits.maxBytes)", keeping: Self.parkedPrefix)
        }
        let publications: [Publication]
        do {
            publications = try PublicationCodec.decodeBatch(
                delivery.body, trusted: delivery.trusted, maxItems: delivery.trusted ? .max : limits.maxItems
            ).publications
        } catch {
            logger.error("rejecting malformed message", metadata: ["source": "\(delivery.source)", "error": "\(error)"])
            if case .deadLetter = delivery.source {
                park(delivery, reason: "\(error.code): \(error.message)")
            } else if error.code == "too_many_items" {
                park(delivery, reason: "\(error.code): \(error.message)")
            } else {
                delivery.settle(.reject(requeue: false))
            }
            return
        }
        switch delivery.source {
        case .node:
            // What a producer sent straight to a node queue has not been kept or split by a router.
            var stale: [Publication] = []
            for publication in publications {
                for leg in publication.legs {
                    let held = hub.deliver(leg.withID(EventIDGenerator.next))
                    if Self.followsItsTarget(leg), leg.hops == 0, !held { stale.append(leg) }
                }
            }
            if stale.isEmpty {
                delivery.settle(.ack)
            } else {
                reroute(stale, awayFrom: nodeID, delivery)
            }
        case .ingress:
            logger.trace("routing an ingress message", metadata: ["targets": "\(publications.flatMap(\.legs).map(\.target.key))"])
            route(publications, from: delivery)
        case .control:
            delivery.settle(.ack)
        case .deadLetter(let reason, let queue):
            guard reason == "expired" else {
                park(delivery, reason: reason)
                return
            }
            // Personal events that waited in a dead node's queue go to wherever their target is now.
            // Channel, tenant and broadcast subscribers of that node resume from history; its connections are gone.
            let deadNode = BrokerTopology.nodeID(ofQueue: queue) ?? ""
            let personal = publications.flatMap(\.legs).filter { Self.followsItsTarget($0) && $0.hops == 0 }
            if personal.isEmpty {
                delivery.settle(.ack)
            } else {
                reroute(personal, awayFrom: deadNode, delivery)
            }
        }
    }

    /// A kick from another node (only nodes can send these): end the matching local streams, keep the bar.
    private func control(_ delivery: BrokerDelivery) {
        defer { delivery.settle(.ack) }
        guard let kick = try? Kick.decode(delivery.body) else {
            logger.error("dropping an unreadable control message")
            return
        }
        kicks.add(kick)
        hub.end(matching: kick.target, kick.cause, farewell: Farewell.event(kick.cause, message: kick.reason, reconnect: kick.reconnect))
        logger.info("kicked", metadata: ["target": "\(kick.target)", "reconnect": "\(kick.reconnect)"])
    }

    /// Events for a person (their user, session or device) follow them to whichever node holds them now;
    /// a channel's, a tenant's and a broadcast's subscribers resume from history instead.
    private static func followsItsTarget(_ publication: Publication) -> Bool {
        switch publication.target.kind {
        case .user, .session, .client: true
        case .connection, .tenant, .channel, .broadcast: false
        }
    }

    /// These targets are not on `node` any more (they left after the route was looked up, or `node`
    /// died): pass their events to wherever they are now, then settle. The events stay in history
    /// either way, so a user who is nowhere gets them on resuming.
    private func reroute(_ publications: [Publication], awayFrom node: String, _ delivery: BrokerDelivery) {
        let router = self.router
        let logger = self.logger
        Task {
            var requeue = false
            for publication in publications {
                do {
                    let nodes = try await router.reroute(publication, awayFrom: node)
                    logger.debug("rerouted a stale route", metadata: ["event": "\(publication.id ?? "-")", "nodes": "\(nodes)"])
                } catch {
                    // Kept in history already: acking loses nothing a resume would not bring back.
                    logger.warning("could not reroute a stale route", metadata: ["error": "\(error)"])
                    if publication.position == nil { requeue = true }
                }
            }
            delivery.settle(requeue ? .reject(requeue: true) : .ack)
        }
    }

    /// Routes an ingress message's publications (in their order, in line with every other arrival)
    /// and acks it once all are routed. If any failed (Redis or RabbitMQ away), the whole message goes
    /// back after a pause, not in a tight loop; publications with ids are not sent twice.
    private func route(_ publications: [Publication], from delivery: BrokerDelivery) {
        let logger = self.logger
        let remaining = NIOLockedValueBox((count: publications.count, failure: nil as Router.Failure?))
        router.submit(publications) { _, outcome in
            let (done, failure) = remaining.withLockedValue { state -> (Bool, Router.Failure?) in
                if case .failure(let error) = outcome, state.failure == nil { state.failure = error }
                state.count -= 1
                return (state.count == 0, state.failure)
            }
            guard done else { return }
            guard let failure else { return delivery.settle(.ack) }
            logger.warning("ingress routing failed; requeueing", metadata: ["error": "\(failure)"])
            Task {
                try? await Task.sleep(for: .seconds(1))
                delivery.settle(.reject(requeue: true))
            }
        }
    }

    private func park(_ delivery: BrokerDelivery, reason: String, keeping limit: Int = .max) {
        let broker = self.broker
        let logger = self.logger
        Task {
            do {
                try await broker.park(Array(delivery.body.prefix(limit)), reason: reason)
                delivery.settle(.ack)
            } catch {
                logger.warning("could not park a dead letter; requeueing", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                delivery.settle(.reject(requeue: true))
            }
        }
    }
}
