import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import SSEFanout

/// Which loops the hub hands an event to (`loops(for:)`, which `deliver` follows): those holding its
/// streams, and none for an event no stream here wants.
@Suite struct LocalHubTests {
    private let logger = Logger(label: "test-local-hub")

    private func hub(_ loops: [EmbeddedEventLoop]) -> LocalHub {
        LocalHub(eventLoops: loops, heartbeatInterval: .seconds(3600), logger: logger)
    }

    private func stream(on loop: EmbeddedEventLoop, hub: LocalHub, user: String, channels: [String] = []) -> SSEConnection {
        let record = ConnectionRecord(
            connectionID: hub.newConnectionID(on: loop), nodeID: "n1", connectedAt: 0,
            addresses: ConnectionRecord.addresses(user: user, channels: channels))
        let connection = SSEConnection(record: record, channel: EmbeddedChannel(loop: loop), token: ResumeToken(), resumedFrom: ResumeToken())
        hub.add(connection) { _ in }
        return connection
    }

    @Test func theLoopsChosenForATargetAreThoseHoldingItsStreams() {
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        let hub = hub(loops)
        let alice = stream(on: loops[1], hub: hub, user: "alice", channels: ["news"])

        #expect(hub.loops(for: .user("alice")) == ShardSet(1))
        #expect(hub.loops(for: .channel("news")) == ShardSet(1))
        #expect(hub.loops(for: .connection(alice.id)) == ShardSet(1))
        #expect(!hub.loops(for: .user("alice")).contains(0))

        let bob = stream(on: loops[0], hub: hub, user: "bob", channels: ["news"])
        #expect(hub.loops(for: .channel("news")) == ShardSet(mask: 0b11))
        #expect(hub.loops(for: .connection(bob.id)) == ShardSet(0))
        #expect(hub.loops(for: .broadcast) == .all)

        // Bob's loop no longer holds a subscriber of the channel: it is not woken for it.
        hub.remove(bob) { _ in }
        #expect(hub.loops(for: .channel("news")) == ShardSet(1))
        #expect(hub.loops(for: .user("bob")) == .none)
    }

    @Test func anEventNoStreamHereWantsReachesNoLoop() {
        let loops = [EmbeddedEventLoop(), EmbeddedEventLoop()]
        let hub = hub(loops)
        #expect(hub.loops(for: .broadcast) == .none)
        #expect(!hub.deliver(Publication(target: .broadcast, data: .text("x"))))
        #expect(!hub.deliver(Publication(target: .user("carol"), data: .text("x"))))

        let alice = stream(on: loops[0], hub: hub, user: "alice")
        #expect(hub.deliver(Publication(target: .user("alice"), data: .text("x"))))
        hub.remove(alice) { _ in }
        #expect(!hub.deliver(Publication(target: .user("alice"), data: .text("x"))))
    }
}
