import Testing
@testable import RabbitMQ

@Suite("Declaring topology")
struct TopologyTests {
    @Test("declaring the same topology twice is fine; a conflicting one is refused with the broker's reason")
    func declareTwice() throws {
        let exchange = TestBroker.uniqueName("topology-x")
        let queue = TestBroker.uniqueName("topology-q")
        let topology = TestBroker.simpleTopology(
            exchange: exchange, queue: queue, routingKey: "k", type: .topic,
            queueArguments: ["x-max-length": .int(1_000), "x-queue-mode": .string("default")])

        // Synchronous test: the connection stays on this one thread, as rabbitmq-c requires.
        let connection = try AMQPConnection.open(configuration: TestBroker.configuration(), logger: TestBroker.logger)
        defer { connection.close() }
        try connection.declare(topology)
        try connection.declare(topology)

        // Proves the declarations really reached the broker: changing an argument now conflicts.
        var conflicting = topology
        conflicting.queues[0].arguments["x-max-length"] = .int(5)
        let error = try #require(throws: AMQPError.self) { try connection.declare(conflicting) }
        guard case .channelClosed(let reason) = error else {
            Issue.record("expected channelClosed, got \(error)")
            return
        }
        #expect(reason.contains("PRECONDITION_FAILED"))
        #expect(reason.contains(queue))
    }

    @Test("a publisher and a consumer declaring the same topology both connect")
    func publisherAndConsumerShareTopology() async throws {
        let exchange = TestBroker.uniqueName("shared-x")
        let queue = TestBroker.uniqueName("shared-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")
        try await withConsumer(topology: topology, queues: [queue]) { consumer, _ in
            try await withPublisher(topology: topology) { publisher in
                #expect(consumer.isConnected)
                #expect(publisher.isConnected)
            }
        }
    }
}
