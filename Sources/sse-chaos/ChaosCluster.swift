import Foundation
import Logging
import SSEClient
import NIOConcurrencyHelpers

/// The system under test: the suite's redis-server and rabbitmq-server and N sse-fanout nodes, all real
/// processes on 127.0.0.1, plus the faults that can be done to them.
///
/// It also plays the load balancer's health check: a node is *live* from the moment it answered
/// /readyz until `healthCheckLag` after the suite killed or signalled it (so, as in production, some
/// publishes and reconnects still hit a dying node). Clients and the publisher only pick live nodes.
final class ChaosCluster: Sendable {
    let nodePorts: [Int]
    let services: ServiceController
    private let binary: String
    private let nodeArguments: [String]
    private let runDirectory: String
    private let logger: Logger
    private let http = HTTPClient()
    private let state = NIOLockedValueBox(State())

    private struct State {
        var nodes: [Int: NodeProcess] = [:]
        var live: Set<Int> = []
        /// Nodes the suite killed or stopped and has not started again.
        var stoppedBySuite: Set<Int> = []
        /// Rotates the publisher's choice of node.
        var nextPick = 0
    }

    /// How long after a kill or SIGTERM the node is still handed out, as if by a load balancer whose
    /// health check has not noticed yet.
    static let healthCheckLag: Duration = .seconds(1)
    /// How long a node may take to answer /readyz after it was started.
    static let readyTimeout: Duration = .seconds(60)
    /// How long a node may take to exit after SIGTERM before it is killed.
    static let stopTimeout: Duration = .seconds(30)

    init(nodePorts: [Int], binary: String, nodeArguments: [String] = [], services: ServiceController, runDirectory: String, logger: Logger) {
        self.nodePorts = nodePorts
        self.binary = binary
        self.nodeArguments = nodeArguments
        self.services = services
        self.runDirectory = runDirectory
        self.logger = logger
    }

    func logPath(ofNode port: Int) -> String { "\(runDirectory)/node-\(port).log" }

    // MARK: Whole cluster

    /// Starts fresh servers, then every node, and returns once every node answers /readyz.
    func start() async throws {
        for port in nodePorts where PortProbe.isOpen(port) {
            throw ChaosError.portInUse(port, "pick other node ports with --base-port")
        }
        let started = ContinuousClock.now
        try await services.startFresh()
        logger.info("redis-server :\(services.redisPort) and rabbitmq-server :\(services.amqpPort) up in \(Self.secondsSince(started)) s")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for port in nodePorts {
                group.addTask { _ = try await self.startNode(port) }
            }
            try await group.waitForAll()
        }
        logger.info("nodes \(nodePorts.map(String.init).joined(separator: ", ")) ready")
    }

    /// Stops every node (SIGTERM, SIGKILL if it hangs) and both servers. Never throws: it runs after
    /// failures too, and whatever it cannot stop it logs.
    func shutdown() async {
        let nodes = state.withLockedValue { state in
            state.live.removeAll()
            return Array(state.nodes.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for node in nodes where node.isRunning {
                group.addTask { _ = try? await self.stop(node, signal: SIGTERM) }
            }
        }
        do {
            try await services.stopAll()
        } catch {
            logger.error("could not stop the servers: \(error); stop them with: \(services.manualStopCommand)")
        }
    }

    /// For the interrupt handler: SIGKILL every node and stop the servers, blocking this thread.
    func emergencyStop() {
        for node in state.withLockedValue({ Array($0.nodes.values) }) { node.process.send(SIGKILL) }
        services.stopAllBlocking()
    }

    // MARK: Node choice (the load balancer's view)

    /// Live nodes, in port order.
    var livePorts: [Int] { state.withLockedValue { $0.live.sorted() } }

    /// The live node after `port` in port order (wrapping), so a client that lost a node moves to
    /// another one; `port` itself only if it is the only live node. nil if none is live.
    func nextLivePort(after port: Int?) -> Int? {
        let live = livePorts
        guard !live.isEmpty else { return nil }
        guard let port else { return live[0] }
        return live.first { $0 > port } ?? live.first { $0 != port } ?? live[0]
    }

    /// Round-robin over the live nodes, avoiding `avoiding` (a node that just failed) when possible.
    func pickLivePort(avoiding: Int? = nil) -> Int? {
        state.withLockedValue { state in
            let live = state.live.sorted()
            guard !live.isEmpty else { return nil }
            for _ in 0..<live.count {
                let port = live[state.nextPick % live.count]
                state.nextPick &+= 1
                if port != avoiding || live.count == 1 { return port }
            }
            return live[0]
        }
    }

    /// Nodes that exited although the suite did not stop them (a crash), with their exit status.
    func nodesThatDied() -> [(port: Int, status: Int32)] {
        state.withLockedValue { state in
            state.nodes.compactMap { port, node in
                guard !state.stoppedBySuite.contains(port), let status = node.process.status else { return nil }
                return (port, status)
            }.sorted { $0.port < $1.port }
        }
    }

    func pid(ofNode port: Int) -> Int32? {
        state.withLockedValue { $0.nodes[port] }.flatMap { $0.isRunning ? $0.pid : nil }
    }

    /// Polls /readyz on every live node until all answer 200; returns the seconds that took, or nil
    /// if some node was still not ready after `timeout`.
    func waitUntilLiveNodesReady(timeout: Duration) async throws -> Double? {
        let started = ContinuousClock.now
        let nodes = state.withLockedValue { state in state.live.compactMap { state.nodes[$0] } }
        var pending = nodes
        let ready = try await BoundedPoll.until(timeout: timeout, every: .milliseconds(200)) {
            var stillPending: [NodeProcess] = []
            for node in pending where await !node.isReady(client: http) { stillPending.append(node) }
            pending = stillPending
            return pending.isEmpty
        }
        return ready ? Self.secondsSince(started) : nil
    }

    // MARK: Faults

    /// `kill -9`: the node gets no chance to close streams or clean Redis. Returns once it is gone and
    /// out of rotation.
    func kill(_ port: Int) async throws {
        guard let node = state.withLockedValue({ $0.nodes[port] }) else { return }
        _ = try await stop(node, signal: SIGKILL)
    }

    /// SIGTERM: a graceful shutdown (drain). Returns once the node exited and is out of rotation, with
    /// the seconds from the signal to its exit.
    @discardableResult
    func terminate(_ port: Int) async throws -> Double {
        guard let node = state.withLockedValue({ $0.nodes[port] }) else { return 0 }
        return try await stop(node, signal: SIGTERM)
    }

    /// Starts a node on `port` (a new incarnation when it ran before) and returns once it answers
    /// /readyz, with the seconds that took. It is live from then on.
    @discardableResult
    func startNode(_ port: Int) async throws -> Double {
        let started = ContinuousClock.now
        let node = try NodeProcess.launch(
            port: port, binary: binary, services: services, extraArguments: nodeArguments, logPath: logPath(ofNode: port))
        state.withLockedValue { state in
            state.nodes[port] = node
            state.stoppedBySuite.remove(port)
        }
        let ready = try await BoundedPoll.until(timeout: Self.readyTimeout, every: .milliseconds(200)) {
            guard node.isRunning else { return true }
            return await node.isReady(client: http)
        }
        guard node.isRunning else {
            throw ChaosError.nodeExited(port: port, logTail: node.process.logTail())
        }
        guard ready else {
            throw ChaosError.notReady("node \(port) (GET /readyz); see \(logPath(ofNode: port))")
        }
        state.withLockedValue { _ = $0.live.insert(port) }
        return Self.secondsSince(started)
    }

    /// Signals the node, takes it out of rotation `healthCheckLag` later, and waits for its exit
    /// (SIGKILL after `stopTimeout`). Returns the seconds from the signal to the exit.
    private func stop(_ node: NodeProcess, signal: Int32) async throws -> Double {
        let started = ContinuousClock.now
        state.withLockedValue { _ = $0.stoppedBySuite.insert(node.port) }
        node.process.send(signal)
        var exitedAfter: Double?
        if try await node.process.waitForExit(timeout: Self.healthCheckLag) != nil {
            exitedAfter = Self.secondsSince(started)
        }
        try await Task.sleep(until: started + Self.healthCheckLag)
        state.withLockedValue { _ = $0.live.remove(node.port) }
        if exitedAfter == nil, try await node.process.waitForExit(timeout: Self.stopTimeout) == nil {
            logger.warning("node \(node.port) still runs \(Self.stopTimeout) after signal \(signal); sending SIGKILL")
            node.process.send(SIGKILL)
            _ = try await node.process.waitForExit(timeout: .seconds(10))
        }
        return exitedAfter ?? Self.secondsSince(started)
    }

    static func secondsSince(_ start: ContinuousClock.Instant) -> Double {
        (ScenarioClock.seconds(ContinuousClock.now - start) * 10).rounded() / 10
    }
}
