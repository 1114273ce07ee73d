import Logging
import RabbitMQ
import SSEFanout
import Testing

/// The brokers `BrokerContractTests` runs against: the same tests, the same answers. RabbitMQ ones
/// run on a virtual host of the suite's own (`TestEnvironment.contractAMQPURL`), each test's nodes
/// under ids of their own.
enum BrokerKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inProcess
    case rabbitMQ

    var testDescription: String { rawValue }

    /// The most nodes one cluster of this kind has: an in-process broker is its one node's alone.
    var maxNodes: Int {
        switch self {
        case .inProcess: 1
        case .rabbitMQ: 2
        }
    }

    /// `nodes` brokers (at most `maxNodes`), started and ready, each recording what reaches its handler.
    /// They take nothing from the shared queues unless `sharedQueues`: RabbitMQ gives the messages of
    /// those queues to any node of any test that consumes them.
    func make(nodes count: Int = 1, sharedQueues: Bool = false) async throws -> TestBrokers {
        precondition(count <= maxNodes, "a \(self) cluster has at most \(maxNodes) nodes")
        var nodes: [TestBrokers.Node] = []
        for _ in 0..<count {
            let id = TestEnvironment.uniqueName("contract")
            let lines = CapturingLogHandler.Lines()
            let broker: any Broker
            switch self {
            case .inProcess:
                broker = InProcessBroker(nodeID: id)
            case .rabbitMQ:
                broker = RabbitMQBroker(
                    nodeID: id, configuration: try AMQPConfiguration(url: TestEnvironment.contractAMQPURL), prefetch: 100,
                    queueExpiry: .seconds(60), messageTTL: .seconds(30), logger: Logger(label: "test-\(id)") { _ in CapturingLogHandler(lines: lines) })
            }
            let received = ReceivedDeliveries()
            broker.consumeSharedQueues(sharedQueues)
            try await broker.start { received.record($0) }
            nodes.append(TestBrokers.Node(id: id, broker: broker, received: received, lines: lines))
        }
        let producer: AMQPPublisher?
        switch self {
        case .inProcess:
            producer = nil
        case .rabbitMQ:
            let publisher = AMQPPublisher(
                configuration: try AMQPConfiguration(url: TestEnvironment.contractAMQPURL), topology: BrokerTopology.shared,
                logger: Logger(label: "test-contract-producer"))
            publisher.start()
            producer = publisher
        }
        let cluster = TestBrokers(kind: self, nodes: nodes, producer: producer)
        try await TestEnvironment.eventually(timeout: .seconds(30), "the brokers connected") {
            nodes.allSatisfy { $0.broker.notReadyReason == nil } && producer?.isConnected ?? true
        }
        return cluster
    }
}
