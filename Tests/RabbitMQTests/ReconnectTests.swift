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

    @Test("a publisher reconnects by itself: a new connection replaces the closed one, and each publish arrives once")
    func publisherReconnects() async throws {
        let connectionName = TestBroker.uniqueName("publisher-connection")
        let exchange = TestBroker.uniqueName("reconnect-x")
        let queue = TestBroker.uniqueName("reconnect-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")
        let configuration = try TestBroker.configuration(connectionName: connectionName)

        try await withConsumer(topology: topology, queues: [queue]) { consumer, inbox in
            try await withPublisher(topology: topology, configuration: configuration) { publisher in
                #expect(try await publisher.publish(exchange: exchange, routingKey: "k", body: [1]) == .confirmed)
                let before = publisher.connectionsEstablished
                let processBefore = try await RabbitMQCtl.connectionProcesses(withClientName: connectionName)
                #expect(processBefore.count == 1)
                #expect(try await RabbitMQCtl.closeConnections(named: connectionName) == 1)

                // The reconnect itself, awaited: a connection established after the closed one. Whether a
                // publish in between fails depends on how soon the publisher noticed, so none is required.
                try await publisher.waitUntilConnected(timeout: .seconds(30), establishedAfter: before)
                #expect(publisher.connectionsEstablished > before)

                // A publish racing the reconnect may still fail once; then it is retried on the new connection.
                var outcome: AMQPPublishOutcome?
                let deadline = ContinuousClock.now + .seconds(30)
                while outcome == nil && ContinuousClock.now < deadline {
                    do {
                        outcome = try await publisher.publish(exchange: exchange, routingKey: "k", body: [2])
                    } catch is AMQPError {
                        try await publisher.waitUntilConnected(timeout: .seconds(10))
                    }
                }
                #expect(outcome == .confirmed)
                #expect(publisher.isConnected)
                let processAfter = try await RabbitMQCtl.connectionProcesses(withClientName: connectionName)
                #expect(processAfter.count == 1)
                #expect(processAfter != processBefore, "the broker still holds the closed connection")
            }
            var bodies: [[UInt8]] = []
            while !bodies.contains([2]), let delivery = await inbox.next(within: .seconds(15)) {
                consumer.ack(delivery)
                bodies.append(delivery.body)
            }
            // Nothing arrives after [2] either: each publish exactly once.
            if let extra = await inbox.next(within: .milliseconds(300)) {
                consumer.ack(extra)
                bodies.append(extra.body)
            }
            #expect(bodies == [[1], [2]])
        }
    }
}
