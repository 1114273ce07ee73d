import RabbitMQ

/// Runs `body` with a connected publisher, shutting it down afterwards whatever happens.
func withPublisher<Result>(
    topology: AMQPTopology,
    configuration: AMQPConfiguration? = nil,
    _ body: (AMQPPublisher) async throws -> Result
) async throws -> Result {
    let publisher = AMQPPublisher(
        configuration: try configuration ?? TestBroker.configuration(), topology: topology, logger: TestBroker.logger)
    publisher.start()
    do {
        try await publisher.waitUntilConnected(timeout: .seconds(10))
        let result = try await body(publisher)
        await publisher.shutdown()
        return result
    } catch {
        await publisher.shutdown()
        throw error
    }
}

/// Runs `body` with a connected consumer whose deliveries land in the returned inbox, stopping it afterwards.
func withConsumer<Result>(
    topology: AMQPTopology,
    queues: [String],
    prefetch: UInt16 = 100,
    configuration: AMQPConfiguration? = nil,
    _ body: (AMQPConsumer, DeliveryInbox) async throws -> Result
) async throws -> Result {
    let inbox = DeliveryInbox()
    let consumer = AMQPConsumer(
        configuration: try configuration ?? TestBroker.configuration(), topology: topology, queues: queues,
        prefetch: prefetch, logger: TestBroker.logger, handler: inbox.receive)
    consumer.start()
    do {
        try await consumer.waitUntilConnected(timeout: .seconds(10))
        let result = try await body(consumer, inbox)
        await consumer.stop()
        return result
    } catch {
        await consumer.stop()
        throw error
    }
}
