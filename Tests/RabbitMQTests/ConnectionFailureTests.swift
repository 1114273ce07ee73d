import Testing
@testable import RabbitMQ

@Suite("Connection failures")
struct ConnectionFailureTests {
    /// Nothing listens on port 1; the generous connect timeout shows the failure is not a timeout.
    private func closedPortConfiguration() -> AMQPConfiguration {
        var configuration = AMQPConfiguration(host: "127.0.0.1", port: 1)
        configuration.connectTimeout = .seconds(30)
        return configuration
    }

    @Test("connecting to a closed port fails at once with connectionFailed")
    func closedPortFailsFast() throws {
        let start = ContinuousClock.now
        let error = try #require(throws: AMQPError.self) {
            try AMQPConnection.open(configuration: closedPortConfiguration(), logger: TestBroker.logger)
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        guard case .connectionFailed(let message) = error else {
            Issue.record("expected connectionFailed, got \(error)")
            return
        }
        #expect(message.contains("127.0.0.1:1"))
    }

    @Test("a publisher that cannot connect fails publishes fast, reports why, and shuts down promptly")
    func publisherWithoutBroker() async throws {
        let publisher = AMQPPublisher(
            configuration: closedPortConfiguration(), topology: AMQPTopology(), logger: TestBroker.logger)
        publisher.start()

        let start = ContinuousClock.now
        await #expect(throws: AMQPError.self) {
            try await publisher.publish(exchange: "", routingKey: "k", body: [1])
        }
        #expect(ContinuousClock.now - start < .seconds(1))

        let error = try await #require(throws: AMQPError.self) {
            try await publisher.waitUntilConnected(timeout: .seconds(2))
        }
        #expect("\(error)".contains("cannot connect to 127.0.0.1:1"))
        #expect(publisher.lastError?.contains("cannot connect to 127.0.0.1:1") == true)
        #expect(!publisher.isConnected)

        let shutdownStart = ContinuousClock.now
        await publisher.shutdown()
        #expect(ContinuousClock.now - shutdownStart < .seconds(2))
    }

    @Test("a consumer that cannot connect reports why, keeps retrying, and stops promptly")
    func consumerWithoutBroker() async throws {
        let consumer = AMQPConsumer(
            configuration: closedPortConfiguration(), topology: AMQPTopology(), queues: ["q"], prefetch: 1,
            logger: TestBroker.logger, handler: { _ in })
        consumer.start()
        let error = try await #require(throws: AMQPError.self) {
            try await consumer.waitUntilConnected(timeout: .seconds(2))
        }
        #expect("\(error)".contains("cannot connect to 127.0.0.1:1"))
        #expect(!consumer.isConnected)

        let stopStart = ContinuousClock.now
        await consumer.stop()
        #expect(ContinuousClock.now - stopStart < .seconds(2))
    }

    @Test("a wrong password or a missing vhost fails with the broker's reason, not a hang")
    func refusedLogin() throws {
        var wrongPassword = try TestBroker.configuration()
        wrongPassword.password = "not-the-password"
        let loginError = try #require(throws: AMQPError.self) {
            try AMQPConnection.open(configuration: wrongPassword, logger: TestBroker.logger)
        }
        #expect("\(loginError)".contains("ACCESS_REFUSED"), "\(loginError)")

        var missingVhost = try TestBroker.configuration()
        missingVhost.vhost = TestBroker.uniqueName("no-such-vhost")
        let vhostError = try #require(throws: AMQPError.self) {
            try AMQPConnection.open(configuration: missingVhost, logger: TestBroker.logger)
        }
        #expect("\(vhostError)".contains(missingVhost.vhost), "\(vhostError)")
    }
}
