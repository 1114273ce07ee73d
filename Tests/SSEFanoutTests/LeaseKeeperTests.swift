import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

@testable import SSEFanout

/// The lease against the in-process registry: kept while the keeper runs, the node's streams asked to be
/// registered again when the registry lost it, and given up, with what is left of the node's entries, on
/// a graceful shutdown but not on cancellation.
@Suite struct LeaseKeeperTests {
    private static let record = NodeRecord(nodeID: "n1", bootID: "b", host: "127.0.0.1", port: 8080, startedAt: 0)

    private static func keeper(
        _ registry: InProcessRegistry, lease: Duration, renewals: NIOLockedValueBox<Int> = .init(0), lost: NIOLockedValueBox<Int> = .init(0)
    ) -> LeaseKeeper {
        LeaseKeeper(
            registry: registry, lease: lease, logger: Logger(label: "test-lease"), record: { record },
            // Asked once per renewal.
            totals: {
                renewals.withLockedValue { $0 += 1 }
                return nil
            },
            registerAgain: { lost.withLockedValue { $0 += 1 } })
    }

    @Test func theLeaseIsKeptAndGivenUpWithTheNodesEntriesOnAGracefulShutdown() async throws {
        let registry = InProcessRegistry()
        let left = ConnectionRecord(connectionID: "c1", nodeID: "n1", connectedAt: 0, addresses: ConnectionRecord.addresses(user: "u", channels: ["news"]))
        try await registry.register(left, joined: left.addresses)
        let renewals = NIOLockedValueBox(0)
        let group = ServiceGroup(services: [Self.keeper(registry, lease: .milliseconds(300), renewals: renewals)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await eventually("the lease renewed, every third of it") { renewals.withLockedValue { $0 } >= 3 }

        await group.triggerGracefulShutdown()
        try await running.value
        #expect(try await registry.liveNodes().isEmpty)
        #expect(try await registry.expiredNodes(before: .zero).isEmpty, "unregistered, not left to expire")
        #expect(try await registry.connections(ofNode: "n1").isEmpty)
    }

    @Test func aLeaseTheRegistryLostAsksForTheStreamsToBeRegisteredAgain() async throws {
        let registry = InProcessRegistry()
        let lost = NIOLockedValueBox(0)
        let keeper = Self.keeper(registry, lease: .seconds(1), lost: lost)
        let running = Task { await keeper.run() }
        try await eventually("the lease taken") { try await registry.liveNodes() == ["n1"] }
        #expect(lost.withLockedValue { $0 } == 0, "the first renewal finds nothing, and nothing was lost")
        // What FLUSHALL or a Redis restart without its data does.
        try await registry.unregisterNode("n1")
        try await eventually("the loss noticed at the next renewal") { lost.withLockedValue { $0 } >= 1 }
        running.cancel()
        await running.value
    }

    @Test func aCancelledKeeperLeavesTheLeaseToRunOut() async throws {
        let registry = InProcessRegistry()
        let keeper = Self.keeper(registry, lease: .seconds(60))
        let running = Task { await keeper.run() }
        try await eventually("the lease taken") { try await registry.liveNodes() == ["n1"] }
        running.cancel()
        await running.value
        #expect(try await registry.liveNodes() == ["n1"])
    }
}
