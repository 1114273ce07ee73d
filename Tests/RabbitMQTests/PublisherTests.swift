import Testing
@testable import RabbitMQ

@Suite("AMQPPublisher")
struct PublisherTests {
    @Test("a mandatory publish with no queue bound for its key is .returned; routable ones are .confirmed, even mixed in one batch")
    func mandatoryUnroutableIsReturned() async throws {
        let exchange = TestBroker.uniqueName("mandatory-x")
        let queue = TestBroker.uniqueName("mandatory-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "bound")

        try await withPublisher(topology: topology) { publisher in
            #expect(try await publisher.publish(exchange: exchange, routingKey: "nowhere", body: [1], mandatory: true) == .returned)
            #expect(try await publisher.publish(exchange: exchange, routingKey: "bound", body: [2], mandatory: true) == .confirmed)
            // Without mandatory the broker drops an unroutable message and just confirms it.
            #expect(try await publisher.publish(exchange: exchange, routingKey: "nowhere", body: [3]) == .confirmed)
            // A caller's own message id is used to match the return.
            #expect(
                try await publisher.publish(
                    exchange: exchange, routingKey: "nowhere", body: [4], properties: .init(messageId: "mine"),
                    mandatory: true) == .returned)

            // Concurrent calls are published as batches: each return must reach its own caller.
            let outcomes = try await withThrowingTaskGroup(of: (Int, AMQPPublishOutcome).self) { group in
                for index in 0..<60 {
                    group.addTask {
                        let key = index % 3 == 0 ? "nowhere" : "bound"
                        return (index, try await publisher.publish(exchange: exchange, routingKey: key, body: [UInt8(index)], mandatory: true))
                    }
                }
                return try await group.reduce(into: [Int: AMQPPublishOutcome]()) { $0[$1.0] = $1.1 }
            }
            for index in 0..<60 {
                #expect(outcomes[index] == (index % 3 == 0 ? .returned : .confirmed), "message \(index)")
            }
        }
    }

    @Test("many concurrent publishes are all confirmed and all arrive")
    func manyConcurrentPublishes() async throws {
        let exchange = TestBroker.uniqueName("bulk-x")
        let queue = TestBroker.uniqueName("bulk-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "bulk")
        let count = 5_000

        try await withConsumer(topology: topology, queues: [queue], prefetch: 1_000) { consumer, inbox in
            try await withPublisher(topology: topology) { publisher in
                let start = ContinuousClock.now
                let confirmed = try await withThrowingTaskGroup(of: AMQPPublishOutcome.self) { group in
                    for index in 0..<count {
                        group.addTask {
                            try await publisher.publish(
                                exchange: exchange, routingKey: "bulk", body: Array("message \(index)".utf8),
                                properties: .init(persistent: false))
                        }
                    }
                    return try await group.reduce(0) { $1 == .confirmed ? $0 + 1 : $0 }
                }
                #expect(confirmed == count)
                print("published and confirmed \(count) messages in \(ContinuousClock.now - start)")
            }
            var bodies = Set<[UInt8]>()
            for _ in 0..<count {
                guard let delivery = await inbox.next() else { break }
                consumer.ack(delivery)
                bodies.insert(delivery.body)
            }
            #expect(bodies.count == count)
        }
    }

    @Test("publishing to a missing exchange throws channelClosed with the broker's reason, and the next publish works")
    func missingExchangeClosesOnlyTheChannel() async throws {
        let exchange = TestBroker.uniqueName("exists-x")
        let queue = TestBroker.uniqueName("exists-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")

        try await withPublisher(topology: topology) { publisher in
            let error = try await #require(throws: AMQPError.self) {
                try await publisher.publish(exchange: TestBroker.uniqueName("missing-x"), routingKey: "k", body: [1])
            }
            guard case .channelClosed(let reason) = error else {
                Issue.record("expected channelClosed, got \(error)")
                return
            }
            #expect(reason.contains("NOT_FOUND"))
            #expect(try await publisher.publish(exchange: exchange, routingKey: "k", body: [2]) == .confirmed)
            #expect(publisher.isConnected)
        }
    }

    @Test("after shutdown, publish fails at once with notConnected")
    func publishAfterShutdown() async throws {
        let publisher = AMQPPublisher(
            configuration: try TestBroker.configuration(), topology: AMQPTopology(), logger: TestBroker.logger)
        publisher.start()
        try await publisher.waitUntilConnected(timeout: .seconds(10))
        #expect(publisher.isConnected)
        #expect(publisher.lastError == nil)
        await publisher.shutdown()
        #expect(!publisher.isConnected)
        #expect(publisher.lastError?.contains("shut down") == true)
        await #expect(throws: AMQPError.notConnected("the publisher is shut down")) {
            try await publisher.publish(exchange: "", routingKey: "nowhere", body: [])
        }
    }
}
