import Testing
@testable import RabbitMQ

@Suite("Heartbeats")
struct HeartbeatTests {
    @Test("idle publisher and consumer connections stay up: they keep servicing heartbeats")
    func idleConnectionsStayUp() async throws {
        let exchange = TestBroker.uniqueName("heartbeat-x")
        let queue = TestBroker.uniqueName("heartbeat-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")
        let publisherName = TestBroker.uniqueName("heartbeat-publisher")
        let consumerName = TestBroker.uniqueName("heartbeat-consumer")
        var publisherConfiguration = try TestBroker.configuration(connectionName: publisherName)
        var consumerConfiguration = try TestBroker.configuration(connectionName: consumerName)
        // Four seconds: the broker drops a connection after two missed heartbeats (about 8 s), which an
        // idle client stays quiet for well within the wait below, while a busy machine's scheduling stalls
        // do not reach it. One and two seconds were within their reach.
        publisherConfiguration.heartbeat = 4
        consumerConfiguration.heartbeat = 4

        try await withConsumer(topology: topology, queues: [queue], configuration: consumerConfiguration) { consumer, inbox in
            try await withPublisher(topology: topology, configuration: publisherConfiguration) { publisher in
                let publisherConnections = try await RabbitMQCtl.connectionProcesses(withClientName: publisherName)
                let consumerConnections = try await RabbitMQCtl.connectionProcesses(withClientName: consumerName)
                #expect(publisherConnections.count == 1)
                #expect(consumerConnections.count == 1)

                // The passing time is what is under test: the broker drops a connection after two
                // missed heartbeats (about 8 s here), and rabbitmq-c sends them only when called.
                try await Task.sleep(for: .seconds(16))

                // Still the very same connections, not replacements made after a drop.
                #expect(try await RabbitMQCtl.connectionProcesses(withClientName: publisherName) == publisherConnections)
                #expect(try await RabbitMQCtl.connectionProcesses(withClientName: consumerName) == consumerConnections)
                #expect(try await publisher.publish(exchange: exchange, routingKey: "k", body: [42]) == .confirmed)
            }
            let delivery = try #require(await inbox.next())
            consumer.ack(delivery)
            #expect(delivery.body == [42])
        }
    }
}
