import Testing
@testable import RabbitMQ

@Suite("Publishing and consuming against the real broker")
struct PublishConsumeTests {
    @Test("a published message arrives with its body byte for byte, its properties and its routing data")
    func roundTrip() async throws {
        let exchange = TestBroker.uniqueName("roundtrip-x")
        let queue = TestBroker.uniqueName("roundtrip-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "node.5682", type: .topic)
        // Every byte value, including NUL, which a C-string-based wrapper would truncate.
        let body = (0..<600).map { UInt8(truncatingIfNeeded: $0 * 7) } + [0, 0, 255]
        let properties = AMQPMessageProperties(
            contentType: "application/octet-stream",
            messageId: "message-1",
            persistent: false,
            headers: ["event": .string("price-update"), "sequence": .int(-42_000_000_000), "urgent": .bool(true)])

        try await withConsumer(topology: topology, queues: [queue]) { consumer, inbox in
            try await withPublisher(topology: topology) { publisher in
                let outcome = try await publisher.publish(
                    exchange: exchange, routingKey: "node.5682", body: body, properties: properties)
                #expect(outcome == .confirmed)
            }
            let delivery = try #require(await inbox.next())
            consumer.ack(delivery)
            #expect(delivery.body == body)
            #expect(delivery.properties == properties)
            #expect(delivery.exchange == exchange)
            #expect(delivery.routingKey == "node.5682")
            #expect(delivery.queue == queue)
            #expect(delivery.redelivered == false)
            #expect(delivery.deliveryTag == 1)

            // The defaults travel too: persistent, no content type, message id or headers.
            try await withPublisher(topology: topology) { publisher in
                _ = try await publisher.publish(exchange: exchange, routingKey: "node.5682", body: [])
            }
            let plain = try #require(await inbox.next())
            consumer.ack(plain)
            #expect(plain.body.isEmpty)
            #expect(plain.properties == AMQPMessageProperties())
        }
    }

    @Test("no more than `prefetch` unacked deliveries arrive; each ack lets exactly one more through")
    func prefetchBound() async throws {
        let exchange = TestBroker.uniqueName("prefetch-x")
        let queue = TestBroker.uniqueName("prefetch-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")
        let prefetch = 3
        let published = 10

        try await withPublisher(topology: topology) { publisher in
            for index in 0..<published {
                _ = try await publisher.publish(exchange: exchange, routingKey: "k", body: [UInt8(index)])
            }
        }
        try await withConsumer(topology: topology, queues: [queue], prefetch: UInt16(prefetch)) { consumer, inbox in
            var unacked: [AMQPDelivery] = []
            for _ in 0..<prefetch {
                unacked.append(try #require(await inbox.next()))
            }
            // Proving an absence needs a wait: nothing more may arrive while all three stay unacked.
            #expect(await inbox.next(within: .milliseconds(500)) == nil)
            #expect(inbox.receivedCount == prefetch)

            consumer.ack(unacked.removeFirst())
            let fourth = try #require(await inbox.next())
            #expect(fourth.body == [UInt8(prefetch)])
            #expect(await inbox.next(within: .milliseconds(300)) == nil)
            #expect(inbox.receivedCount == prefetch + 1)
        }
    }

    @Test("reject(requeue: false) dead-letters the message into the queue's dead-letter exchange")
    func rejectDeadLetters() async throws {
        let exchange = TestBroker.uniqueName("work-x")
        let queue = TestBroker.uniqueName("work-q")
        let deadLetterExchange = TestBroker.uniqueName("dlx")
        let deadLetterQueue = TestBroker.uniqueName("dlq")
        var topology = TestBroker.simpleTopology(
            exchange: exchange, queue: queue, routingKey: "job",
            queueArguments: ["x-dead-letter-exchange": .string(deadLetterExchange)])
        topology.exchanges.append(.init(name: deadLetterExchange, type: .fanout, durable: false, autoDelete: true))
        topology.queues.append(.init(name: deadLetterQueue, durable: false, arguments: ["x-expires": TestBroker.queueExpiry]))
        topology.bindings.append(.init(queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: ""))

        try await withConsumer(topology: topology, queues: [deadLetterQueue]) { deadLetterConsumer, deadLetters in
            try await withConsumer(topology: topology, queues: [queue]) { workConsumer, work in
                try await withPublisher(topology: topology) { publisher in
                    _ = try await publisher.publish(
                        exchange: exchange, routingKey: "job", body: Array("poison".utf8),
                        properties: .init(messageId: "job-1"))
                }
                let delivery = try #require(await work.next())
                workConsumer.reject(delivery, requeue: false)

                let deadLetter = try #require(await deadLetters.next())
                deadLetterConsumer.ack(deadLetter)
                #expect(deadLetter.body == Array("poison".utf8))
                #expect(deadLetter.properties.messageId == "job-1")
                #expect(deadLetter.exchange == deadLetterExchange)
                #expect(deadLetter.routingKey == "job")
                #expect(deadLetter.queue == deadLetterQueue)
                // Rejected without requeue: it must not come back to the work queue.
                #expect(await work.next(within: .milliseconds(300)) == nil)
            }
        }
    }

    @Test("publishing through the default exchange (empty name) routes by queue name")
    func defaultExchange() async throws {
        let queue = TestBroker.uniqueName("default-exchange-q")
        let topology = AMQPTopology(queues: [.init(name: queue, durable: false, arguments: ["x-expires": TestBroker.queueExpiry])])
        try await withConsumer(topology: topology, queues: [queue]) { consumer, inbox in
            try await withPublisher(topology: topology) { publisher in
                let outcome = try await publisher.publish(exchange: "", routingKey: queue, body: [7], mandatory: true)
                #expect(outcome == .confirmed)
            }
            let delivery = try #require(await inbox.next())
            consumer.ack(delivery)
            #expect(delivery.body == [7])
            #expect(delivery.exchange == "")
            #expect(delivery.routingKey == queue)
        }
    }

    @Test("a paused queue's messages go to its other consumers; resumed, it takes its turn again")
    func pauseAndResume() async throws {
        let exchange = TestBroker.uniqueName("pause-x")
        let queue = TestBroker.uniqueName("pause-q")
        let topology = TestBroker.simpleTopology(exchange: exchange, queue: queue, routingKey: "k")
        let pausedInbox = DeliveryInbox()
        let paused = AMQPConsumer(
            configuration: try TestBroker.configuration(), topology: topology, queues: [queue], prefetch: 100, logger: TestBroker.logger,
            handler: pausedInbox.receive)
        paused.pause(queue)
        paused.start()
        try await paused.waitUntilConnected(timeout: .seconds(10))
        try await withConsumer(topology: topology, queues: [queue]) { other, inbox in
            try await withPublisher(topology: topology) { publisher in
                for index in 0..<20 {
                    _ = try await publisher.publish(exchange: exchange, routingKey: "k", body: [UInt8(index)])
                }
                for _ in 0..<20 { other.ack(try #require(await inbox.next())) }
                #expect(pausedInbox.receivedCount == 0)

                paused.resume(queue)
                // The broker deals messages out in turn: the resumed consumer soon gets one.
                var sent = 0
                while pausedInbox.receivedCount == 0, sent < 1000 {
                    _ = try await publisher.publish(exchange: exchange, routingKey: "k", body: [0])
                    sent += 1
                    if let delivery = await inbox.next(within: .milliseconds(50)) { other.ack(delivery) }
                }
                #expect(pausedInbox.receivedCount > 0)
            }
        }
        await paused.stop()
    }
}
