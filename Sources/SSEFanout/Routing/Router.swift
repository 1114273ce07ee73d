import Foundation
import Logging
import NIOConcurrencyHelpers

/// Sends publications to the nodes that hold their targets' connections: one message per owning node,
/// never one per connection; a broadcast is one message to the fanout exchange. Before that it
/// claims the publisher's id (a retried publish is accepted once) and keeps the event in its target's
/// history, so clients that reconnect, and users who are offline, get it later.
///
/// Publications are routed in batches: whatever arrived while the previous batch was at Redis goes
/// together. A batch costs one history step and one registry lookup (sent together), and one message
/// per owning node carrying all of the batch's events for that node, however many it holds. Batches are
/// handed to the broker in arrival order, one after the other, so events to one target reach its
/// streams in the order they arrived; confirms are gathered by callbacks, never holding up the next batch.
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
        /// Another attempt with the same id is under way.
        case inFlight(String)

        /// The error code an answer carries: `in_flight` (409, retry later), else `unavailable` (503).
        public var code: String {
            if case .inFlight = self { return "in_flight" }
            return "unavailable"
        }

        /// `description` without what the store answered (its host and port, its error text): what a
        /// caller without full rights is told.
        public var summary: String {
            switch self {
            case .inFlight: description
            case .registryUnavailable: "registry unavailable (Redis); retry with the same id"
            case .historyUnavailable: "history unavailable (Redis); retry with the same id"
            case .brokerUnavailable: "broker unavailable (RabbitMQ); retry with the same id"
            }
        }

        public var description: String {
            switch self {
            case .inFlight(let id): "a publication with id '\(id)' is being published right now; retry once it has an answer"
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
    private let metrics: NodeMetrics?
    /// Publications waiting to be routed, in arrival order; one drainer (`routeNext`) at a time.
    private let queue = NIOLockedValueBox(DrainQueue<QueuedLeg>())

    public init(registry: any Registry, broker: any Broker, history: any History, logger: Logger, metrics: NodeMetrics? = nil) {
        self.registry = registry
        self.broker = broker
        self.history = history
        self.logger = logger
        self.metrics = metrics
    }

    /// Queues a publication for routing and returns at once; `completion` gets the outcome (from any
    /// thread). Call it as the publication arrives: its place in line is taken now.
    public func submit(_ publication: Publication, then completion: @escaping Completion) {
        let items = Self.items(publication, completion)
        if queue.withLockedValue({ $0.append(contentsOf: items) }) {
            routeNext()
        }
    }

    /// `submit` for several publications at once (an array publish): they queue together, so they
    /// travel in one batch when they fit. `completion` gets each one's index and outcome.
    public func submit(
        _ publications: [Publication], then completion: @escaping @Sendable (_ index: Int, _ outcome: Swift.Result<Result, Failure>) -> Void
    ) {
        let items = publications.indices.flatMap { index in
            Self.items(publications[index]) { completion(index, $0) }
        }
        if queue.withLockedValue({ $0.append(contentsOf: items) }) {
            routeNext()
        }
    }

    /// A publication's legs, one per target, in line. The legs share one id (a stream that matches two
    /// targets gets it once), and each claims its own idempotency key, so a retry after a partial
    /// failure sends only the legs that failed. Their outcomes merge into one answer.
    private static func items(_ publication: Publication, _ completion: @escaping Completion) -> [QueuedLeg] {
        guard publication.targets.count > 1 else {
            let claim = publication.id.map { Self.claim($0, for: publication.target) }
            return [QueuedLeg(publication: publication, claim: claim, completion: completion)]
        }
        let given = publication.id
        let legs = publication.withID(EventIDGenerator.next).legs
        let outcomes = PublishAnswers(count: legs.count)
        return legs.indices.map { index in
            let target = legs[index].target
            let claim = given.map { Self.claim(index == 0 ? $0 : "\($0)|\(target.key)", for: target) }
            return QueuedLeg(publication: legs[index], claim: claim) { outcome in
                if let all = outcomes.set(index, outcome) { completion(merged(all)) }
            }
        }
    }

    /// The idempotency key a leg claims: the publisher's id within the tenant its target lives in
    /// (`acme|invoice-1`, `|invoice-1` in the default tenant, `*|…` for a broadcast), so that no
    /// publisher can claim another tenant's ids, nor learn from a `duplicate` answer that they were used.
    /// Tenants hold neither `|` nor `*`.
    static func claim(_ id: String, for target: Address) -> String {
        (target.kind == .broadcast ? "*" : target.tenant) + "|" + id
    }

    /// One answer for a publication's legs: the first failure, or the nodes reached by each leg
    /// added up, stored if any leg was kept, a duplicate if every leg was.
    private static func merged(_ outcomes: [Swift.Result<Result, Failure>]) -> Swift.Result<Result, Failure> {
        var merged: Result?
        for outcome in outcomes {
            switch outcome {
            case .failure(let failure): return .failure(failure)
            case .success(let leg):
                guard var sum = merged else { merged = leg; continue }
                sum.nodes += leg.nodes
                sum.stored = sum.stored || leg.stored
                sum.duplicate = sum.duplicate && leg.duplicate
                merged = sum
            }
        }
        return .success(merged!)
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

    /// Routes the oldest waiting batch, and once its messages are with the broker the next one, until
    /// the queue is empty. No task in between: this runs on the submitting thread first, then on the
    /// thread that answers each batch's lookup (for Redis, the loop whose connection the batch went on:
    /// the submitting loop's own).
    private func routeNext() {
        guard let batch = queue.withLockedValue({ $0.next(limit: Self.batchLimit) }) else { return }
        route(batch) { self.routeNext() }
    }

    /// Keeps and looks up the whole batch, hands its messages to the broker, then calls `next`; the
    /// confirms are gathered by callbacks.
    private func route(_ batch: [QueuedLeg], then next: @escaping @Sendable () -> Void) {
        let acceptedAt = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let publications = batch.map { item in
            var publication = item.publication.withID(EventIDGenerator.next)
            publication.acceptedAt = acceptedAt
            return publication
        }
        let admissions = publications.indices.map { index in
            let publication = publications[index]
            let stream = publication.ephemeral || !publication.target.isKept ? nil : publication.target
            return HistoryAdmission(
                claim: batch[index].claim, stream: stream, body: stream == nil ? [] : PublicationCodec.encode(publication))
        }
        let lookup = BatchLookup { [publications] admitted, found in
            var publications = publications
            let outcomes: [HistoryAdmission.Outcome]
            switch admitted {
            case .success(let admittedOutcomes): outcomes = admittedOutcomes
            case .failure(let error):
                self.fail(batch, .historyUnavailable("\(error)"))
                return next()
            }
            let nodes: [Set<String>]
            switch found {
            case .success(let foundNodes): nodes = foundNodes
            case .failure(let error):
                let taken = Withdrawal(batch.indices, of: batch, publications, outcomes)
                guard !taken.isEmpty else {
                    self.fail(batch, .registryUnavailable("\(error)"))
                    return next()
                }
                Task {
                    await self.withdraw(taken)
                    self.fail(batch, .registryUnavailable("\(error)"))
                    next()
                }
                return
            }
            var delivery = BatchDelivery(size: batch.count)
            for index in batch.indices {
                guard case .accepted(let position) = outcomes[index] else { continue }
                publications[index].position = position
                delivery.add(index, body: PublicationCodec.encode(publications[index]), target: publications[index].target, nodes: nodes[index])
            }
            let sent = ContinuousClock.now
            let sends = delivery.send(through: self.broker)
            let settled = Settled(batch: batch, publications: publications, outcomes: outcomes, nodes: nodes)
            BatchConfirms.await(sends, items: batch.count) { routed, failures in
                self.metrics?.amqpConfirm.recordInterval(since: sent)
                self.settle(settled, routed: routed, failures: failures)
            }
            next()
        }
        let started = ContinuousClock.now
        history.admit(admissions) { [metrics] in
            metrics?.redisCommand.recordInterval(since: started)
            lookup.admitted($0)
        }
        registry.nodes(for: publications.map(\.target)) { [metrics] in
            metrics?.redisCommand.recordInterval(since: started)
            lookup.found($0)
        }
    }

    /// What a batch's answers are made of, once its messages are confirmed.
    private struct Settled: Sendable {
        var batch: [QueuedLeg]
        var publications: [Publication]
        var outcomes: [HistoryAdmission.Outcome]
        var nodes: [Set<String>]
    }

    /// Marks the claimed ids done, and withdraws the publications whose messages failed (their entries
    /// and claims), then answers each publication. With nothing to write, answers at once, on the
    /// broker's thread.
    private func settle(_ settled: Settled, routed: [Int], failures: [String?]) {
        // Only claims this batch holds: a duplicate's or an in-flight one's belongs to another attempt.
        let completed = settled.batch.indices.compactMap { index in
            settled.outcomes[index].isAccepted && failures[index] == nil ? settled.batch[index].claim : nil
        }
        let failed = Withdrawal(
            settled.batch.indices.filter { failures[$0] != nil }, of: settled.batch, settled.publications, settled.outcomes)
        if completed.isEmpty && failed.isEmpty {
            return answer(settled, routed: routed, failures: failures)
        }
        let history = self.history
        Task {
            // Not completing (Redis just went away) only means a retry would send it again.
            if !completed.isEmpty { try? await history.complete(completed) }
            // Answered 503, it is accepted nowhere: part of it may have gone out, and the publisher's
            // retry (clients drop the repeat of an id) is kept once.
            await self.withdraw(failed)
            answer(settled, routed: routed, failures: failures)
        }
    }

    /// What admitted publications left in history: the entries they kept and the ids they claimed.
    private struct Withdrawal: Sendable {
        var entries: [HistoryPosition] = []
        var claims: [String] = []

        var isEmpty: Bool { entries.isEmpty && claims.isEmpty }

        /// The entries and claims of the publications at `indices` that were accepted (not duplicates
        /// or in flight: their claims belong to another attempt).
        init(_ indices: some Sequence<Int>, of batch: [QueuedLeg], _ publications: [Publication], _ outcomes: [HistoryAdmission.Outcome]) {
            for index in indices {
                guard case .accepted(let position) = outcomes[index] else { continue }
                if let position { entries.append(HistoryPosition(stream: publications[index].target, position: position)) }
                if let claim = batch[index].claim { claims.append(claim) }
            }
        }
    }

    /// Takes back what failed publications left in history, so that a 503 means accepted nowhere. If
    /// Redis is away too, the entries stay and the claims lapse (see `RedisHistory`).
    private func withdraw(_ withdrawal: Withdrawal) async {
        if withdrawal.isEmpty { return }
        do {
            try await history.withdraw(withdrawal.entries, claims: withdrawal.claims)
        } catch {
            logger.warning(
                "unrouted publications stay in history: withdrawing them failed",
                metadata: ["entries": "\(withdrawal.entries.count)", "error": "\(error)"])
        }
    }

    private func answer(_ settled: Settled, routed: [Int], failures: [String?]) {
        for index in settled.batch.indices {
            let publication = settled.publications[index]
            let completion = settled.batch[index].completion
            if let failure = failures[index] {
                metrics?.publishError("unavailable")
                completion(.failure(.brokerUnavailable(failure)))
                continue
            }
            switch settled.outcomes[index] {
            case .duplicate:
                completion(.success(Result(id: publication.id!, nodes: 0, stored: false, duplicate: true)))
            case .inFlight:
                metrics?.publishError("in_flight")
                completion(.failure(.inFlight(publication.id!)))
            case .accepted(let position):
                metrics?.published(publication.target.kind)
                // A broadcast reaches every live node through one message.
                let count = publication.target == .broadcast ? (routed[index] > 0 ? settled.nodes[index].count : 0) : routed[index]
                completion(.success(Result(id: publication.id!, nodes: count, stored: position != nil, duplicate: false)))
            }
        }
    }

    private func fail(_ batch: [QueuedLeg], _ failure: Failure) {
        for item in batch {
            metrics?.publishError(failure.code)
            item.completion(.failure(failure))
        }
    }
}
