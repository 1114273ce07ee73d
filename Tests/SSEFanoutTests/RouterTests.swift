import Logging
import NIOConcurrencyHelpers
import Testing

@testable import SSEFanout

/// Records what the router asks of a broker.
private final class RecordingBroker: Broker {
    let published = NIOLockedValueBox<[(node: String, body: [UInt8])]>([])
    let broadcasts = NIOLockedValueBox<[[UInt8]]>([])
    let knownNodes: Set<String>
    /// Nodes whose messages fail, as when RabbitMQ is away.
    let failing = NIOLockedValueBox<Set<String>>([])

    init(knownNodes: Set<String>) { self.knownNodes = knownNodes }

    private struct Unreachable: Error {}

    func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws {}
    func publish(_ body: [UInt8], toNode nodeID: String) -> BrokerSend {
        if failing.withLockedValue({ $0.contains(nodeID) }) { return BrokerSend(.failure(Unreachable())) }
        published.withLockedValue { $0.append((nodeID, body)) }
        return BrokerSend(.success(knownNodes.contains(nodeID)))
    }
    func broadcast(_ body: [UInt8]) -> BrokerSend {
        broadcasts.withLockedValue { $0.append(body) }
        return BrokerSend(.success(true))
    }
    func sendControl(_ body: [UInt8]) -> BrokerSend { BrokerSend(.success(true)) }
    func publishLifecycle(_ body: [UInt8], event: String) -> BrokerSend { BrokerSend(.success(true)) }
    func publishUpstream(_ body: [UInt8], routingKey: String, messageID: String, headers: [String: String]) -> BrokerSend {
        BrokerSend(.success(true))
    }
    func park(_ body: [UInt8], reason: String) async throws {}
    func stopConsuming() async {}
    func shutdown() async {}
    var notReadyReason: String? { nil }
}

@Suite struct RouterTests {
    private func record(_ id: String, node: String, user: String? = nil, channels: [String] = []) -> ConnectionRecord {
        ConnectionRecord(connectionID: id, nodeID: node, connectedAt: 0, addresses: ConnectionRecord.addresses(user: user, channels: channels))
    }

    private func setUp() async throws -> (Router, RecordingBroker) {
        let registry = InProcessRegistry()
        // `joined`: the addresses each connection is its node's first stream for.
        try await registry.register(record("c1", node: "A", user: "alice", channels: ["news"]), joined: [.user("alice"), .channel("news")])
        try await registry.register(record("c2", node: "A", user: "alice", channels: ["news"]), joined: [])
        try await registry.register(record("c3", node: "B", user: "alice"), joined: [.user("alice")])
        try await registry.register(record("c4", node: "C", user: "bob", channels: ["news"]), joined: [.user("bob"), .channel("news")])
        for node in ["A", "B", "C"] {
            try await registry.registerNode(NodeRecord(nodeID: node, bootID: "b", host: "h", port: 1, startedAt: 0), lease: .seconds(60))
        }
        let broker = RecordingBroker(knownNodes: ["A", "B", "C"])
        return (Router(registry: registry, broker: broker, history: InProcessHistory(retention: .init()), logger: Logger(label: "test")), broker)
    }

    /// Ids are claimed per tenant: a publisher in one tenant cannot take, nor learn of, another's ids.
    @Test func publicationIdsAreClaimedPerTenant() async throws {
        let (router, _) = try await setUp()
        let attacker = try await router.route(Publication(target: .user("mallory", tenant: "a"), data: .text("x"), id: "invoice-1000-paid"))
        #expect(!attacker.duplicate)
        let real = try await router.route(Publication(target: .user("bob", tenant: "b"), data: .text("paid"), id: "invoice-1000-paid"))
        #expect(!real.duplicate)
        #expect(real.stored)
        // The default tenant, and a broadcast, are scopes of their own too.
        #expect(try await !router.route(Publication(target: .user("bob"), data: .text("paid"), id: "invoice-1000-paid")).duplicate)
        #expect(try await !router.route(Publication(target: .broadcast, data: .text("paid"), id: "invoice-1000-paid")).duplicate)
        // Within one tenant the id is still accepted once.
        #expect(try await router.route(Publication(target: .user("carol", tenant: "b"), data: .text("again"), id: "invoice-1000-paid")).duplicate)
        #expect(Router.claim("x", for: .user("u", tenant: "acme")) == "acme|x")
        #expect(Router.claim("x", for: .user("u")) == "|x")
        #expect(Router.claim("x", for: .broadcast) == "*|x")
    }

    @Test func userTargetSendsOneMessagePerOwningNodeNotPerConnection() async throws {
        let (router, broker) = try await setUp()
        let result = try await router.route(Publication(target: .user("alice"), data: .text("hi")))
        #expect(result.nodes == 2)
        #expect(broker.published.withLockedValue { $0.map(\.node) }.sorted() == ["A", "B"])
    }

    @Test func connectionTargetGoesToItsNodeOnly() async throws {
        let (router, broker) = try await setUp()
        #expect(try await router.route(Publication(target: .connection("c3"), data: .text("hi"))).nodes == 1)
        #expect(broker.published.withLockedValue { $0.map(\.node) } == ["B"])
    }

    @Test func channelTargetGoesToNodesWithSubscribers() async throws {
        let (router, broker) = try await setUp()
        #expect(try await router.route(Publication(target: .channel("news"), data: .text("hi"))).nodes == 2)
        #expect(broker.published.withLockedValue { $0.map(\.node) }.sorted() == ["A", "C"])
    }

    @Test func broadcastIsOneMessageToTheFanoutExchange() async throws {
        let (router, broker) = try await setUp()
        #expect(try await router.route(Publication(target: .broadcast, data: .text("hi"))).nodes == 3)
        #expect(broker.broadcasts.withLockedValue { $0.count } == 1)
        #expect(broker.published.withLockedValue { $0.isEmpty })
    }

    @Test func severalTargetsAreKeptOncePerTargetAndAnsweredOnce() async throws {
        let (router, broker) = try await setUp()
        let result = try await router.route(Publication(targets: [.user("bob"), .channel("news")], data: .text("x"), id: "multi"))
        #expect(result.id == "multi")
        #expect(result.stored)
        // bob on C; news on A and C.
        #expect(broker.published.withLockedValue { $0.map(\.node) }.sorted() == ["A", "C"])
        #expect(result.nodes == 3)
        // A retry is a duplicate on every leg, and sends nothing.
        let again = try await router.route(Publication(targets: [.user("bob"), .channel("news")], data: .text("x"), id: "multi"))
        #expect(again.duplicate)
        #expect(broker.published.withLockedValue { $0.count } == 2)
    }

    @Test func oneIDTwiceInOneBatchIsSentOnceAndTheRepeatIsRefusedAsInFlight() async throws {
        let (router, broker) = try await setUp()
        let outcomes = NIOLockedValueBox<[Int: Swift.Result<Router.Result, Router.Failure>]>([:])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let publications = [
                Publication(target: .user("bob"), data: .text("FIRST"), id: "same"),
                Publication(target: .user("bob"), data: .text("other")),
                Publication(target: .user("bob"), data: .text("SECOND"), id: "same"),
            ]
            router.submit(publications) { index, outcome in
                if outcomes.withLockedValue({ $0[index] = outcome; return $0.count }) == 3 { done.resume() }
            }
        }
        let all = outcomes.withLockedValue { $0 }
        #expect((try? all[0]?.get())?.duplicate == false)
        guard case .failure(.inFlight("same"))? = all[2] else {
            Issue.record("the repeat was not refused as in flight: \(String(describing: all[2]))")
            return
        }
        let bodies = broker.published.withLockedValue { $0.map { String(decoding: $0.body, as: UTF8.self) } }
        #expect(bodies.joined().contains("FIRST"))
        #expect(!bodies.joined().contains("SECOND"))
        // Once the first attempt settled, the id is a plain duplicate.
        #expect(try await router.route(Publication(target: .user("bob"), data: .text("THIRD"), id: "same")).duplicate)
    }

    /// Answered 503, a publication is accepted nowhere: its entry and its claim are taken back.
    @Test func aPublicationWhoseSendFailedIsWithdrawnAndItsRetryIsKeptOnce() async throws {
        let (router, broker) = try await setUp()
        broker.failing.withLockedValue { $0 = ["C"] }
        let start = StreamPosition(milliseconds: 0)
        do {
            _ = try await router.route(Publication(target: .user("bob"), data: .text("x"), id: "unsent"))
            Issue.record("a publication whose send failed was answered as sent")
        } catch {
            guard case .brokerUnavailable = error else { throw error }
        }
        #expect(try await router.history.read(.user("bob"), after: start).entries.isEmpty)
        broker.failing.withLockedValue { $0 = [] }
        let retried = try await router.route(Publication(target: .user("bob"), data: .text("x"), id: "unsent"))
        #expect(!retried.duplicate && retried.nodes == 1)
        #expect(try await router.history.read(.user("bob"), after: start).entries.count == 1)
    }

    @Test func unknownTargetRoutesNowhere() async throws {
        let (router, broker) = try await setUp()
        #expect(try await router.route(Publication(target: .user("nobody"), data: .text("hi"))).nodes == 0)
        #expect(try await router.route(Publication(target: .connection("gone"), data: .text("hi"))).nodes == 0)
        #expect(broker.published.withLockedValue { $0.isEmpty })
    }

    @Test func everyNodeGetsTheSameBodyWithTheAssignedId() async throws {
        let (router, broker) = try await setUp()
        let result = try await router.route(Publication(target: .user("alice"), event: "e", data: .json("[1]")))
        let bodies = broker.published.withLockedValue { $0.map(\.body) }
        #expect(bodies.count == 2 && bodies[0] == bodies[1])
        let sent = try PublicationCodec.decode(bodies[0], trusted: true)
        #expect(sent.id == result.id)
        let position = try #require(sent.position)
        var expected = Publication(target: .user("alice"), event: "e", data: .json("[1]"), id: result.id, position: position)
        // When the router took it, for the delivery latency: set on every routed event.
        expected.acceptedAt = try #require(sent.acceptedAt)
        #expect(sent == expected)
    }

    @Test func aPublisherIdIsKept() async throws {
        let (router, _) = try await setUp()
        #expect(try await router.route(Publication(target: .user("alice"), data: .text("x"), id: "given")).id == "given")
    }

    @Test func aRepeatedPublisherIdIsPublishedOnce() async throws {
        let (router, broker) = try await setUp()
        let first = try await router.route(Publication(target: .user("alice"), data: .text("x"), id: "retry-1"))
        let second = try await router.route(Publication(target: .user("alice"), data: .text("x"), id: "retry-1"))
        #expect(!first.duplicate && first.nodes == 2)
        #expect(second.duplicate && second.nodes == 0)
        #expect(broker.published.withLockedValue { $0.count } == 2)
    }

    @Test func userChannelAndBroadcastEventsAreStoredConnectionAndEphemeralOnesAreNot() async throws {
        let (router, broker) = try await setUp()
        #expect(try await router.route(Publication(target: .user("nobody"), data: .text("x"))).stored)
        #expect(try await router.route(Publication(target: .channel("news"), data: .text("x"))).stored)
        #expect(try await router.route(Publication(target: .broadcast, data: .text("x"))).stored)
        #expect(try await !router.route(Publication(target: .connection("c1"), data: .text("x"))).stored)
        #expect(try await !router.route(Publication(target: .user("alice"), data: .text("x"), ephemeral: true)).stored)
        let ephemeral = try PublicationCodec.decode(try #require(broker.published.withLockedValue { $0.last?.body }))
        #expect(ephemeral.ephemeral && ephemeral.position == nil)
    }

    @Test func unregisteringRemovesExactlyThatConnection() async throws {
        let registry = InProcessRegistry()
        let a = record("a", node: "N", user: "u", channels: ["ch"])
        let b = record("b", node: "N", user: "u", channels: ["ch"])
        try await registry.register(a, joined: [.channel("ch")])
        try await registry.register(b, joined: [])
        try await registry.unregister(a, left: [])
        #expect(registry.connections.map(\.connectionID) == ["b"])
        #expect(try await registry.nodes(for: .channel("ch")) == ["N"])
        try await registry.unregister(b, left: [.channel("ch")])
        #expect(registry.connections.isEmpty)
        #expect(try await registry.nodes(for: .channel("ch")).isEmpty)
    }

    /// Publications reach the broker in the order they were submitted, each target's in its own order,
    /// and a burst becomes one message per node, not one per publication.
    @Test func publicationsLeaveInSubmissionOrderBatchedPerNode() async throws {
        let (plain, broker) = try await setUp()
        // History holds the first batch until everything is submitted, as a slow Redis would.
        let history = ClaimRecordingHistory(held: true)
        let router = Router(registry: plain.registry, broker: broker, history: history, logger: Logger(label: "test"))
        let publications = (0..<30).map { Publication(target: .user($0 % 3 == 0 ? "bob" : "alice"), data: .text("\($0)"), id: "p\($0)") }
        let outcomes = AsyncStream<Result<Router.Result, Router.Failure>>.makeStream()
        router.submit(publications[0]) { outcomes.continuation.yield($0) }
        await history.firstBatchArrived()
        for publication in publications.dropFirst() {
            router.submit(publication) { outcomes.continuation.yield($0) }
        }
        history.release()
        var results: [Router.Result] = []
        for await outcome in outcomes.stream {
            results.append(try outcome.get())
            if results.count == publications.count { break }
        }
        #expect(results.allSatisfy { !$0.duplicate })
        let sent = broker.published.withLockedValue { $0 }
        // Per node: the ids in the order they were submitted.
        for node in ["A", "B", "C"] {
            let ids = try sent.filter { $0.node == node }.flatMap { try PublicationCodec.decodeBatch($0.body).publications.map { $0.id! } }
            let expected = publications.filter { node == "C" ? $0.target == .user("bob") : $0.target == .user("alice") }.map(\.id!)
            #expect(ids == expected, "node \(node)")
        }
        // The first publication went alone; the others queued behind it and went together: one message per node.
        #expect(sent.count == 1 + 3)
        #expect(history.batches.withLockedValue { $0 } == [1, 29])
    }

    /// A batch carries the events of all its targets; each answer counts the nodes of its own target.
    @Test func aBatchAnswersEachPublicationForItsOwnTarget() async throws {
        let (router, _) = try await setUp()
        async let toAlice = router.route(Publication(target: .user("alice"), data: .text("a")))
        async let toBob = router.route(Publication(target: .user("bob"), data: .text("b")))
        async let toNobody = router.route(Publication(target: .user("nobody"), data: .text("n")))
        async let toAll = router.route(Publication(target: .broadcast, data: .text("all")))
        #expect(try await [toAlice.nodes, toBob.nodes, toNobody.nodes, toAll.nodes] == [2, 1, 0, 3])
    }

    /// A repeated id inside one burst is routed once it completed; ids the node assigns claim nothing.
    @Test func onlyPublisherIdsAreClaimed() async throws {
        let registry = InProcessRegistry()
        let history = ClaimRecordingHistory()
        let router = Router(registry: registry, broker: RecordingBroker(knownNodes: []), history: history, logger: Logger(label: "test"))
        _ = try await router.route(Publication(target: .user("u"), data: .text("x")))
        _ = try await router.route(Publication(target: .user("u"), data: .text("x"), id: "mine"))
        // Scoped by the target's tenant (the default one here).
        #expect(history.claims.withLockedValue { $0 } == [nil, "|mine"])
        #expect(history.completed.withLockedValue { $0 } == ["|mine"])
    }
}

/// In-process history that records what was claimed and completed.
private final class ClaimRecordingHistory: History {
    let inner = InProcessHistory(retention: .init())
    let claims = NIOLockedValueBox<[String?]>([])
    let completed = NIOLockedValueBox<[String]>([])
    let batches = NIOLockedValueBox<[Int]>([])
    private let gate = AsyncStream<Void>.makeStream()
    private let arrived = AsyncStream<Void>.makeStream()
    private let held: Bool

    init(held: Bool = false) { self.held = held }

    func firstBatchArrived() async {
        for await _ in arrived.stream { return }
    }

    /// Lets the held first batch go on.
    func release() { gate.continuation.finish() }

    func admit(
        _ admissions: [HistoryAdmission], completion: @escaping @Sendable (Result<[HistoryAdmission.Outcome], any Error>) -> Void
    ) {
        Task {
            do {
                completion(.success(try await admitHeld(admissions)))
            } catch {
                completion(.failure(error))
            }
        }
    }

    private func admitHeld(_ admissions: [HistoryAdmission]) async throws -> [HistoryAdmission.Outcome] {
        let first = batches.withLockedValue { $0.append(admissions.count); return $0.count == 1 }
        if held && first {
            arrived.continuation.yield()
            for await _ in gate.stream {}
        }
        claims.withLockedValue { $0 += admissions.map(\.claim) }
        return try await inner.admit(admissions)
    }
    func read(_ stream: Address, after position: StreamPosition, limit: Int) async throws -> HistoryRead {
        try await inner.read(stream, after: position, limit: limit)
    }
    func complete(_ eventIDs: [String]) async throws {
        completed.withLockedValue { $0 += eventIDs }
        try await inner.complete(eventIDs)
    }
    func withdraw(_ entries: [HistoryPosition], claims: [String]) async throws { try await inner.withdraw(entries, claims: claims) }
}
