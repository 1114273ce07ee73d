import Foundation
import Logging
import NIOPosix
import SSEClient
import SSEFanout

/// Nodes started in this test process against the real RabbitMQ and Redis, each on its own port.
final class TestCluster: Sendable {
    let nodes: [Node]
    let group: MultiThreadedEventLoopGroup

    private init(nodes: [Node], group: MultiThreadedEventLoopGroup) {
        self.nodes = nodes
        self.group = group
    }

    static func start(
        nodes count: Int, amqpURL: String = TestEnvironment.amqpURL, redisURL: String = TestEnvironment.redisURL,
        logger given: Logger? = nil, _ configure: (inout NodeConfiguration) -> Void = { _ in }
    ) async throws -> TestCluster {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var logger = given ?? Logger(label: "test-node")
        if given == nil {
            logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        }
        let cluster = TestEnvironment.uniqueName("it")
        var nodes: [Node] = []
        for index in 0..<count {
            var configuration = NodeConfiguration()
            configuration.port = 0
            configuration.nodeID = "\(cluster)-\(index)"
            configuration.amqpURL = amqpURL
            configuration.redisURL = redisURL
            configuration.heartbeatInterval = .milliseconds(300)
            configuration.corsOrigins = ["https://app.example"]
            configuration.queueExpiry = .seconds(600)
            configuration.drainWindow = .milliseconds(200)
            // Most suites test delivery, not identity: they declare users in the query. AuthTests turn it on.
            configuration.auth.disabled = true
            configure(&configuration)
            let node = try await Node.make(configuration: configuration, logger: logger, eventLoopGroup: group)
            try await node.start()
            nodes.append(node)
        }
        let started = TestCluster(nodes: nodes, group: group)
        return started
    }

    /// Waits until every node is ready (connected to RabbitMQ and Redis).
    func waitReady() async throws {
        for index in nodes.indices {
            try await TestEnvironment.eventually("node \(nodes[index].nodeID) ready") {
                (try? await HTTPClient().request("GET", url(index, "/readyz")).status) == 200
            }
        }
    }

    func url(_ node: Int, _ path: String) -> String {
        "http://127.0.0.1:\(nodes[node].port)\(path)"
    }

    /// Opens a stream on `node` and returns it with its `connected` event's data.
    func subscribe(_ node: Int, _ query: String, headers: [(String, String)] = []) async throws -> (SSEStream, ConnectedInfo) {
        let stream = try await SSEStream.connect(url(node, "/events?\(query)"), headers: headers)
        guard let first = try await stream.next(), first.event == "connected" else {
            throw TestEnvironment.TimedOut(what: "connected event")
        }
        let info = try JSONDecoder().decode(ConnectedInfo.self, from: Data(first.data.utf8))
        return (stream, info)
    }

    func publish(_ node: Int, _ json: String) async throws -> HTTPResponse {
        try await HTTPClient().request("POST", url(node, "/publish"), headers: [("Content-Type", "application/json")], body: Array(json.utf8))
    }

    func stop() async {
        for node in nodes { await node.stop() }
        try? await group.shutdownGracefully()
    }
}

struct ConnectedInfo: Decodable {
    var connectionId: String
    var nodeId: String
    var user: String?
    var channels: [String]
}

struct PublishAnswer: Decodable {
    var id: String
    var nodes: Int
}

struct ErrorAnswer: Decodable {
    var error: String
    var message: String
}

extension SSEStream {
    /// The event name the broadcast test uses; every stream in the process receives those.
    static let testBroadcastEvent = "test-broadcast"

    /// The next event that is not another test's broadcast.
    func nextOwn() async throws -> SSEEvent? {
        while let event = try await next() {
            if event.event != Self.testBroadcastEvent { return event }
        }
        return nil
    }
}

extension TestCluster {
    /// Nodes that check tokens signed with `secret` and take `apiKeys`, as a deployment would.
    static func startAuthenticated(
        nodes count: Int, secret: String, apiKeys: [String] = [], _ configure: (inout NodeConfiguration) -> Void = { _ in }
    ) async throws -> TestCluster {
        let cluster = try await start(nodes: count) { configuration in
            configuration.auth.disabled = false
            configuration.auth.jwtSecret = secret
            configuration.auth.apiKeys = apiKeys
            configure(&configuration)
        }
        try await cluster.waitReady()
        return cluster
    }

    /// Signs tokens with a suite's `secret`, as its identity provider would.
    static func minter(secret: String, maxTokenLifetime: Duration? = nil) async throws -> Authenticator {
        var configuration = AuthConfiguration()
        configuration.jwtSecret = secret
        if let maxTokenLifetime { configuration.maxTokenLifetime = maxTokenLifetime }
        return try await Authenticator.load(configuration)
    }
}
