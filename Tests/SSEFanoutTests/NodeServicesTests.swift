import Logging
import NIOPosix
import SSEClient
import ServiceLifecycle
import Testing

@testable import SSEFanout

/// A standalone node (in-process broker and registry) run by its service group: the services in the
/// order the drain reverses, none ending before its turn, and a start that fails draining what had started.
@Suite struct NodeServicesTests {
    private static func standalone(port: Int = 0, _ loops: MultiThreadedEventLoopGroup) async throws -> Node {
        var configuration = NodeConfiguration()
        configuration.standalone = true
        configuration.port = port
        configuration.drainWindow = .milliseconds(100)
        // The trimmer that never trims must still run until its turn.
        configuration.memoryTrimThreshold = 0
        var logger = Logger(label: "test-node")
        logger.logLevel = .critical
        return try await Node.make(configuration: configuration, logger: logger, eventLoopGroup: loops)
    }

    @Test func theServicesStartInTheOrderTheirDrainReverses() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let node = try await Self.standalone(loops)
        #expect(node.services().map(\.serviceName) == [
            "broker", "SSEFanout.LeaseKeeper", "SSEFanout.RegistryRepair", "SSEFanout.MemoryTrimmer", "SSEFanout.SharedQueueGate",
            "registrations", "upstream", "hub", "consumers", "SSEFanout.HTTPServer",
        ])
        try await loops.shutdownGracefully()
    }

    @Test func aStartedNodeServesUntilStoppedAndLeavesTheRegistryWhenDrained() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let node = try await Self.standalone(loops)
        try await node.start()
        #expect(node.port > 0)
        try await eventually("the lease taken") { try await node.registry.liveNodes() == [node.nodeID] }
        // A service that ended early would have drained the node by now.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await HTTPClient().request("GET", "http://127.0.0.1:\(node.port)/healthz").status == 200)

        await node.stop()
        #expect(!node.isAcceptingStreams)
        #expect(try await node.registry.liveNodes().isEmpty)
        await #expect(throws: (any Error).self) { try await HTTPClient().request("GET", "http://127.0.0.1:\(node.port)/healthz") }
        try await loops.shutdownGracefully()
    }

    @Test func aNodeWhoseServerCannotBindFailsToStartAndDrainsWhatHadStarted() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let first = try await Self.standalone(loops)
        try await first.start()
        let second = try await Self.standalone(port: first.port, loops)
        await #expect(throws: (any Error).self) { try await second.start() }
        #expect(second.port == 0)
        #expect(try await second.registry.liveNodes().isEmpty, "its lease was given up")
        await second.stop()
        await first.stop()
        try await loops.shutdownGracefully()
    }
}
