import Logging
import NIOConcurrencyHelpers
import Testing

@testable import SSEFanout

/// Records what the router asks of a broker.
private final class RecordingBroker: Broker {
    let published = NIOLockedValueBox<[(node: String, body: [UInt8])]>([])
    let broadcasts = NIOLockedValueBox<[[UInt8]]>([])
    let knownNodes: Set<String>

    init(knownNodes: Set<String>) { self.knownNodes = knownNodes }

    func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws {}
    func publish(_ body: [UInt8], toNode nodeID: String) -> BrokerSend {
        published.withLockedValue { $0.append((nodeID, body)) }
        return BrokerSend(.success(knownNodes.contains(nodeID)))
    }
    func broadcast(_ body: [UInt8]) -> BrokerSend {
        broadcasts.withLockedValue { $0.append(body) }
        return BrokerSend(.success(true))
    }
    func park(_ body: [UInt8]) async throws {}
    func stopConsuming() async {}
    func shutdown() async {}
    var notReadyReason: String? { nil }
}

@Suite struct RouterTests {
    private func record(_ id: String, node: String, user: String? = nil, channels: [String] = []) -> ConnectionRecord {
        ConnectionRecord(connectionID: id, nodeID: node, user: user, clientID: nil, channels: channels, connectedAt: 0)
    }

    private func setUp() async throws -> (Router, RecordingBroker) {
        let registry = InProcessRegistry()
        try await registry.register(record("c1", node: "A", user: "alice", channels: ["news"]), joinedChannels: ["news"])
        try await registry.register(record("c2", node: "A", user: "alice", channels: ["news"]), joinedChannels: [])
        try await registry.register(record("c3", node: "B", user: "alice"), joinedChannels: [])
        try await registry.register(record("c4", node: "C", user: "bob", channels: ["news"]), joinedChannels: ["news"])
        for node in ["A", "B", "C"] {
            try await registry.registerNode(NodeRecord(nodeID: node, bootID: "b", host: "h", port: 1, startedAt: 0), lease: .seconds(60))
        }
        let broker = RecordingBroker(knownNodes: ["A", "B", "C"])
        return (Router(registry: registry, broker: broker, history: InProcessHistory(retention: .init()), logger: Logger(label: "test")), broker)
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
        let sent = try PublicationCodec.decode(bodies[0])
        #expect(sent.id == result.id)
        let position = try #require(sent.position)
        #expect(sent == Publication(target: .user("alice"), event: "e", data: .json("[1]"), id: result.id, position: position))
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
        try await registry.register(a, joinedChannels: ["ch"])
        try await registry.register(b, joinedChannels: [])
        try await registry.unregister(a, leftChannels: [])
        #expect(registry.connections.map(\.connectionID) == ["b"])
        #expect(try await registry.nodes(for: .channel("ch")) == ["N"])
        try await registry.unregister(b, leftChannels: ["ch"])
        #expect(registry.connections.isEmpty)
        #expect(try await registry.nodes(for: .channel("ch")).isEmpty)
    }

    /// Publications to one target reach the broker in the order they took their tickets, even when
    /// their routing tasks start in the opposite order.
    @Test func publicationsToOneTargetLeaveInArrivalOrder() async throws {
        let (router, broker) = try await setUp()
        let publications = (0..<30).map { Publication(target: .user("bob"), data: .text("\($0)"), id: "p\($0)") }
        let tickets = publications.map { router.ticket(for: $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in publications.indices.reversed() {
                group.addTask { _ = try await router.route(publications[index], ticket: tickets[index]) }
            }
            try await group.waitForAll()
        }
        let order = broker.published.withLockedValue { $0 }.map { try! PublicationCodec.decode($0.body).id! }
        #expect(order == publications.map(\.id!))
    }

    /// A lane waits only for its own target: a publication held up in one lane does not hold up another.
    @Test func oneTargetsLaneDoesNotHoldUpAnother() async throws {
        let (router, broker) = try await setUp()
        let held = router.ticket(for: Publication(target: .user("alice"), data: .text("first")))
        let waiting = Publication(target: .user("alice"), data: .text("second"), id: "second")
        let waitingTicket = router.ticket(for: waiting)
        let behind = Task { try await router.route(waiting, ticket: waitingTicket) }

        #expect(try await router.route(Publication(target: .user("bob"), data: .text("other"))).nodes == 1)
        #expect(broker.published.withLockedValue { $0 }.map(\.node) == ["C"])

        held.pass()
        #expect(try await behind.value.nodes == 2)
    }
}
