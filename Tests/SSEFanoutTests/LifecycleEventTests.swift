import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import SSEFanout

@Suite struct LifecycleEventTests {
    private let record = ConnectionRecord(connectionID: "c1", nodeID: "n1", connectedAt: 5, addresses: ConnectionRecord.addresses(user: "alice", clientID: "phone", session: "s1", tenant: "acme", channels: ["news", "a/b"]))

    private func json(_ event: LifecycleEvent) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(event.encode())) as? [String: Any])
    }

    @Test func aWriteMakesTheConnectionsEventThenTheUsersThenEachChannels() throws {
        let opened = LifecycleEvent.events(for: record, PresenceChange(sequence: 7, occupancy: [.user("alice", tenant: "acme"), .channel("news", tenant: "acme")]), reason: nil, time: 99)
        #expect(opened.map(\.kind) == [.connectionOpened, .userOnline, .channelOccupied])
        #expect(opened.allSatisfy { $0.sequence == 7 && $0.time == 99 && $0.reason == nil })
        let closed = LifecycleEvent.events(for: record, PresenceChange(sequence: 8, occupancy: [.user("alice", tenant: "acme"), .channel("a/b", tenant: "acme")]), reason: .nodeDied, time: 1)
        #expect(closed.map(\.kind) == [.connectionClosed, .userOffline, .channelVacated])
        #expect(LifecycleEvent.events(for: record, PresenceChange(sequence: 9), reason: .kicked, time: 1).map(\.kind) == [.connectionClosed])
        // A write that changed nothing (a repeat, or another remover's) publishes nothing.
        #expect(LifecycleEvent.events(for: record, .unchanged, reason: nil, time: 1).isEmpty)
    }

    @Test func bodiesCarryWhatAppliesToTheirEvent() throws {
        let opened = try json(LifecycleEvent(kind: .connectionOpened, record: record, sequence: 7, time: 99))
        #expect(opened as NSDictionary == [
            "event": "connection.opened", "user": "alice", "tenant": "acme", "session": "s1", "clientId": "phone", "connectionId": "c1",
            "channels": ["news", "a/b"], "node": "n1", "time": 99, "seq": 7,
        ] as NSDictionary)
        let offline = try json(LifecycleEvent(kind: .userOffline, record: record, reason: .clientClosed, sequence: 8, time: 100))
        #expect(offline["event"] as? String == "user.offline")
        #expect(offline["reason"] as? String == "client_closed")
        #expect(offline["channels"] == nil)
        let vacated = try json(LifecycleEvent(kind: .channelVacated, record: record, address: .channel("a/b", tenant: "acme"), reason: .nodeDied, sequence: 9, time: 101))
        #expect(vacated["channel"] as? String == "a/b")
        #expect(vacated["channels"] as? [String] == ["a/b"])
        #expect(vacated["reason"] as? String == "node_died")
        var anonymous = record
        anonymous.addresses = anonymous.addresses.filter { $0.kind == .channel }.map { $0.scoped(to: "") }
        let bare = try json(LifecycleEvent(kind: .connectionClosed, record: anonymous, reason: .drain, sequence: 1, time: 1))
        #expect(Set(bare.keys) == ["event", "tenant", "connectionId", "channels", "node", "time", "seq", "reason"])
    }

    @Test func onlyTheConfiguredKindsArePublished() async throws {
        let broker = InProcessBroker(nodeID: "n1")
        var configuration = NodeConfiguration()
        configuration.lifecycleEvents = ["user.online", "user.offline"]
        let lifecycle = LifecyclePublisher(broker: broker, logger: Logger(label: "test"), kinds: configuration.publishedLifecycleKinds)
        let queue = RegistrationQueue(registry: InProcessRegistry(), lifecycle: lifecycle, logger: Logger(label: "test"))
        let record = ConnectionRecord(connectionID: "a", nodeID: "n1", connectedAt: 1, addresses: ConnectionRecord.addresses(user: "alice", channels: ["news"]))
        queue.enqueue(.register(record, joined: record.addresses))
        queue.enqueue(.unregister(record, left: record.addresses))
        await queue.drain()
        #expect(broker.lifecycleEvents.map(\.event) == ["user.online", "user.offline"])
        configuration.lifecycleEvents = ["none"]
        #expect(configuration.publishedLifecycleKinds.isEmpty)
    }

    @Test func theRegistrationQueuePublishesWhatEachWriteChanged() async throws {
        let registry = InProcessRegistry()
        let broker = InProcessBroker(nodeID: "n1")
        let lifecycle = LifecyclePublisher(broker: broker, logger: Logger(label: "test"), now: { 42 })
        let queue = RegistrationQueue(registry: registry, lifecycle: lifecycle, logger: Logger(label: "test"))
        let first = ConnectionRecord(connectionID: "a", nodeID: "n1", connectedAt: 1, addresses: ConnectionRecord.addresses(user: "alice", channels: ["news"]))
        let second = ConnectionRecord(connectionID: "b", nodeID: "n1", connectedAt: 2, addresses: ConnectionRecord.addresses(user: "alice", channels: ["news"]))
        queue.enqueue(.register(first, joined: first.addresses))
        queue.enqueue(.register(second, joined: []))
        queue.enqueue(.unregister(first, left: [], reason: .kicked))
        queue.enqueue(.unregister(second, left: second.addresses))
        await queue.drain()
        let events = broker.lifecycleEvents
        #expect(events.map(\.event) == [
            "connection.opened", "user.online", "channel.occupied", "connection.opened",
            "connection.closed", "connection.closed", "user.offline", "channel.vacated",
        ])
        let reasons = events.compactMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }.compactMap { $0["reason"] as? String }
        #expect(reasons == ["kicked", "client_closed", "client_closed", "client_closed"])
    }

    /// A broker that refuses the first `failures` lifecycle events, as one would while RabbitMQ is away.
    private final class FlakyBroker: Broker {
        let failures: Int
        let attempts = NIOLockedValueBox(0)
        let published = NIOLockedValueBox<[String]>([])

        init(failures: Int) { self.failures = failures }

        struct Away: Error {}

        func publishLifecycle(_ body: [UInt8], event: String) -> BrokerSend {
            let attempt = attempts.withLockedValue { $0 += 1; return $0 }
            guard attempt > failures else { return BrokerSend(.failure(Away())) }
            published.withLockedValue { $0.append(event) }
            return BrokerSend(.success(true))
        }
        func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws {}
        func publish(_ body: [UInt8], toNode nodeID: String) -> BrokerSend { BrokerSend(.success(true)) }
        func broadcast(_ body: [UInt8]) -> BrokerSend { BrokerSend(.success(true)) }
        func sendControl(_ body: [UInt8]) -> BrokerSend { BrokerSend(.success(true)) }
        func publishUpstream(_ body: [UInt8], routingKey: String, messageID: String, headers: [String: String]) -> BrokerSend {
            BrokerSend(.success(true))
        }
        func park(_ body: [UInt8], reason: String) async throws {}
        func stopConsuming() async {}
        func shutdown() async {}
        var notReadyReason: String? { nil }
    }

    @Test func eventsTheBrokerRefusedAreSentAgain() async throws {
        let broker = FlakyBroker(failures: 3)
        let lifecycle = LifecyclePublisher(broker: broker, logger: Logger(label: "test"))
        lifecycle.removed([RemovedConnection(record: record, change: PresenceChange(sequence: 1, occupancy: [.user("alice", tenant: "acme"), .channel("news", tenant: "acme")]))], reason: .nodeDied)
        await lifecycle.settle(timeout: .seconds(5))
        #expect(broker.published.withLockedValue { $0 } == ["connection.closed", "user.offline", "channel.vacated"])
    }
}
