import Testing
@testable import RabbitMQ

@Suite("Reconnecting after the broker closes the connection")
struct ReconnectTests {
    @Test("a consumer reconnects by itself, gets its unacked message again and later ones, and drops acks for the old connection")
    func consumerReconnects() async throws {
        let connectionName = TestBroker.uniqueName("consumer-connection")
        let exchange = TestBroker.uniqueName("reconnect-x")
        let queue = TestBroker.uniqueName("reconnect-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")
        let consumerConfiguration = try TestBroker.configuration(connectionName: connectionName)

        try await withPublisher(topology: topology) { publisher in
            try await withConsumer(topology: topology, queues: [queue], configuration: consumerConfiguration) { consumer, inbox in
                _ = try await publisher.publish(exchange: exchange, routingKey: "k", body: Array("first".utf8))
                let first = try #require(await inbox.next())
                #expect(!first.redelivered)

                #expect(try await RabbitMQCtl.closeConnections(named: connectionName) == 1)

                // The broker requeued the unacked message; the new connection gets it again.
                let again = try #require(await inbox.next(within: .seconds(15)))
                #expect(again.body == Array("first".utf8))
                #expect(again.redelivered)
                #expect(consumer.isConnected)
                #expect(try await RabbitMQCtl.connectionProcesses(withClientName: connectionName).count == 1)

                // `first` has the same delivery tag as `again`. Sent on the new connection, its ack
                // would ack `again`, and rejecting `again` would then fail and lose the message.
                consumer.ack(first)
                consumer.reject(again, requeue: true)
                let third = try #require(await inbox.next())
                #expect(third.body == Array("first".utf8))
                consumer.ack(third)

                _ = try await publisher.publish(exchange: exchange, routingKey: "k", body: Array("later".utf8))
                let later = try #require(await inbox.next())
                #expect(later.body == Array("later".utf8))
                consumer.ack(later)
            }
        }
    }

    @Test("a publisher reconnects by itself: publishes fail while it is down, then are confirmed again")
    func publisherReconnects() async throws {
        let connectionName = TestBroker.uniqueName("publisher-connection")
        let exchange = TestBroker.uniqueName("reconnect-x")
        let queue = TestBroker.uniqueName("reconnect-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")
        let configuration = try TestBroker.configuration(connectionName: connectionName)

        try await withConsumer(topology: topology, queues: [queue]) { consumer, inbox in
            try await withPublisher(topology: topology, configuration: configuration) { publisher in
                #expect(try await publisher.publish(exchange: exchange, routingKey: "k", body: [1]) == .confirmed)
                #expect(try await RabbitMQCtl.closeConnections(named: connectionName) == 1)

                // The lost connection surfaces as an error (in-flight or fail-fast), then it comes back.
                var failures: [AMQPError] = []
                var outcome: AMQPPublishOutcome?
                let deadline = ContinuousClock.now + .seconds(15)
                while outcome == nil && ContinuousClock.now < deadline {
                    do {
                        outcome = try await publisher.publish(exchange: exchange, routingKey: "k", body: [2])
                    } catch let error as AMQPError {
                        failures.append(error)
                        try await publisher.waitUntilConnected(timeout: .seconds(10))
                    }
                }
                #expect(outcome == .confirmed)
                #expect(!failures.isEmpty, "the closed connection went unnoticed")
                #expect(publisher.isConnected)
                #expect(try await RabbitMQCtl.connectionProcesses(withClientName: connectionName).count == 1)
            }
            var bodies: [[UInt8]] = []
            while !bodies.contains([2]), let delivery = await inbox.next() {
                consumer.ack(delivery)
                bodies.append(delivery.body)
            }
            #expect(bodies == [[1], [2]])
        }
    }
}
