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

    @Test("retired bindings are taken away from a queue that exists, and a missing queue is no error")
    func retiredBindings() async throws {
        let exchange = TestBroker.uniqueName("retired-x")
        let queue = TestBroker.uniqueName("retired-q")
        var topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")
        // A second queue keeps the auto-deleted exchange alive once the first is unbound.
        let kept = TestBroker.uniqueName("kept-q")
        topology.queues.append(.init(name: kept, durable: false, arguments: ["x-expires": TestBroker.queueExpiry]))
        topology.bindings.append(.init(queue: kept, exchange: exchange, routingKey: "other"))
        try await withPublisher(topology: topology) { publisher in
            let outcome = try await publisher.publish(exchange: exchange, routingKey: "k", body: [1], mandatory: true)
            #expect(outcome == .confirmed)
        }
        var retiring = topology
        retiring.bindings = [topology.bindings[1]]
        retiring.retiredBindings = [topology.bindings[0], .init(queue: TestBroker.uniqueName("never-declared"), exchange: exchange, routingKey: "k")]
        try await withPublisher(topology: retiring) { publisher in
            // The queue still exists, but nothing routes to it any more.
            let outcome = try await publisher.publish(exchange: exchange, routingKey: "k", body: [2], mandatory: true)
            #expect(outcome == .returned)
        }
    }
}
