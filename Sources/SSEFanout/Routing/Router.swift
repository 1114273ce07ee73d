import Logging

/// Sends publications to the nodes that hold their targets' connections: one message per owning node,
/// never one per connection; a broadcast is one message to the fanout exchange. Before that it
/// claims the publisher's id (a retried publish is accepted once) and keeps the event in its target's
/// history, so clients that reconnect, and users who are offline, get it later.
///
/// Publications are routed in batches: whatever arrived while the previous batch was at Redis goes
/// together. A batch costs one history step and one registry lookup (sent together), and one message
/// per owning node carrying all of the batch's events for that node, however many it holds. Batches are
/// handed to the broker in arrival order, one after the other, so events to one target reach its
/// streams in the order they arrived; confirms are awaited apart, never holding up the next batch.
public final class Router: Sendable {
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

    public typealias Completion = @Sendable (Swift.Result<Result, Failure>) -> Void

    /// The most publications one batch carries: bounds one Redis command and one message.
    static let batchLimit = 256

    let registry: any Registry
    let broker: any Broker
    let history: any History
    let logger: Logger
    private let queue = RouteQueue()

    public init(registry: any Registry, broker: any Broker, history: any History, logger: Logger) {
        self.registry = registry
        self.broker = broker
        self.history = history
        self.logger = logger
    }

    /// Queues a publication for routing and returns at once; `completion` gets the outcome (from any
    /// thread). Call it as the publication arrives: its place in line is taken now.
    public func submit(_ publication: Publication, then completion: @escaping Completion) {
        if queue.enqueue(RouteQueue.Item(publication: publication, completion: completion)) {
            Task { await drain() }
        }
    }

    /// Assigns an id if the publisher gave none, keeps the event, resolves the owning nodes and publishes.
    public func route(_ publication: Publication) async throws(Failure) -> Result {
        let outcome = await withCheckedContinuation { continuation in
            submit(publication) { continuation.resume(returning: $0) }
        }
        return try outcome.get()
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
        let body = PublicationCodec.encode(publication)
        let sends = nodes.subtracting([nodeID]).sorted().map { broker.publish(body, toNode: $0) }
        var routed = 0
        for send in sends {
            do {
                if try await send.routed { routed += 1 }
            } catch {
                throw .brokerUnavailable("\(error)")
            }
        }
        return routed
    }

    private func drain() async {
        while let batch = queue.next(limit: Self.batchLimit) {
            await route(batch)
        }
    }

    /// Keeps and looks up the whole batch, hands its messages to the broker, and leaves the confirms
    /// to a task of their own.
    private func route(_ batch: [RouteQueue.Item]) async {
        var publications = batch.map { $0.publication.withID(EventIDGenerator.next) }
        let admissions = publications.indices.map { index in
            let publication = publications[index]
            let stream = publication.ephemeral ? nil : HistoryStream(publication.target)
            return HistoryAdmission(
                claim: batch[index].publication.id, stream: stream, body: stream == nil ? [] : PublicationCodec.encode(publication))
        }
        let targets = publications.map(\.target)
        async let lookup = registry.nodes(for: targets)
        let outcomes: [HistoryAdmission.Outcome]
        do {
            outcomes = try await history.admit(admissions)
        } catch {
            _ = try? await lookup
            return fail(batch, .historyUnavailable("\(error)"))
        }
        let claimed = admissions.indices.compactMap { outcomes[$0] == .duplicate ? nil : admissions[$0].claim }
        let nodes: [Set<String>]
        do {
            nodes = try await lookup
        } catch {
            await history.release(claimed)
            return fail(batch, .registryUnavailable("\(error)"))
        }

        var delivery = BatchDelivery(size: batch.count)
        for index in batch.indices {
            guard case .accepted(let position) = outcomes[index] else { continue }
            publications[index].position = position
            delivery.add(index, body: PublicationCodec.encode(publications[index]), target: publications[index].target, nodes: nodes[index])
        }
        let sends = delivery.send(through: broker)
        Task {
            await settle(batch, publications: publications, outcomes: outcomes, nodes: nodes, sends: sends)
        }
    }

    /// Waits for the broker's confirms, marks the claimed ids done (or frees them on failure) and
    /// answers each publication.
    private func settle(
        _ batch: [RouteQueue.Item], publications: [Publication], outcomes: [HistoryAdmission.Outcome], nodes: [Set<String>],
        sends: [BatchDelivery.Send]
    ) async {
        var routed = [Int](repeating: 0, count: batch.count)
        var failures = [String?](repeating: nil, count: batch.count)
        for send in sends {
            do {
                let took = try await send.handle.routed
                if took { for index in send.items { routed[index] += 1 } }
            } catch {
                for index in send.items { failures[index] = failures[index] ?? "\(error)" }
            }
        }
        var completed: [String] = []
        var released: [String] = []
        for index in batch.indices where outcomes[index] != .duplicate {
            guard batch[index].publication.id != nil, let id = publications[index].id else { continue }
            if failures[index] == nil { completed.append(id) } else { released.append(id) }
        }
        // Not completing (Redis just went away) only means a retry would send it again.
        if !completed.isEmpty { try? await history.complete(completed) }
        // Part of it may have gone out: let the publisher's retry through (clients drop the repeat).
        if !released.isEmpty { await history.release(released) }
        for index in batch.indices {
            let publication = publications[index]
            if let failure = failures[index] {
                batch[index].completion(.failure(.brokerUnavailable(failure)))
                continue
            }
            switch outcomes[index] {
            case .duplicate:
                batch[index].completion(.success(Result(id: publication.id!, nodes: 0, stored: false, duplicate: true)))
            case .accepted(let position):
                // A broadcast reaches every live node through one message.
                let count = publication.target == .broadcast ? (routed[index] > 0 ? nodes[index].count : 0) : routed[index]
                batch[index].completion(.success(Result(id: publication.id!, nodes: count, stored: position != nil, duplicate: false)))
            }
        }
    }

    private func fail(_ batch: [RouteQueue.Item], _ failure: Failure) {
        for item in batch { item.completion(.failure(failure)) }
    }
}
