import Logging
import NIOPosix
import ServiceLifecycle
import Testing

@testable import SSEFanout

/// Repairs of the registry against a hub with no open streams: what the registry says the node holds,
/// and no stream here answers to, is unregistered, whichever loss asked for the repair and whether it was
/// asked before the service ran.
@Suite struct RegistryRepairTests {
    private static let logger = Logger(label: "test-repair")

    @Test(arguments: [RegistryRepair.Cause.missedWrites, .lostEntries])
    func aRepairUnregistersStreamsThatEndedWhileRedisWasAway(_ cause: RegistryRepair.Cause) async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let hub = LocalHub(eventLoopGroup: loops, heartbeatInterval: .seconds(60), logger: Self.logger)
        let registry = InProcessRegistry()
        let ended = ConnectionRecord(connectionID: "c1", nodeID: "n1", connectedAt: 0, addresses: ConnectionRecord.addresses(user: "u", channels: ["news"]))
        let elsewhere = ConnectionRecord(connectionID: "c2", nodeID: "n2", connectedAt: 0, addresses: ConnectionRecord.addresses(user: "u"))
        for record in [ended, elsewhere] { try await registry.register(record, joined: record.addresses) }
        let repair = RegistryRepair(
            nodeID: "n1", hub: hub, registry: registry, registrations: RegistrationQueue(registry: registry, logger: Self.logger), logger: Self.logger)
        // Asked before the service runs, and asked again: one repair does for both.
        repair.request(cause)
        repair.request(.missedWrites)
        let group = ServiceGroup(services: [repair], logger: Self.logger)
        let running = Task { try await group.run() }
        try await eventually("the ended stream unregistered") { try await registry.connections(ofNode: "n1").isEmpty }
        #expect(try await registry.connections(ofNode: "n2").map(\.connectionID) == ["c2"], "another node's stream stays")
        await group.triggerGracefulShutdown()
        try await running.value
        try await loops.shutdownGracefully()
    }
}
