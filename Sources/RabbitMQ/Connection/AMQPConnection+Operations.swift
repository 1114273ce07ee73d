import CRabbitMQ

// The AMQP methods publishers and consumers use, each checked for errors.

extension AMQPConnection {
    /// Declares every exchange, queue and binding; idempotent for unchanged settings.
    func declare(_ topology: AMQPTopology) throws {
        for exchange in topology.exchanges {
            CArena.with { arena in
                _ = amqp_exchange_declare(
                    state, Self.channel, arena.bytes(exchange.name), arena.bytes(exchange.type.rawValue),
                    0, exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, 0, arena.table([:]))
            }
            try checkReply(doing: "declaring exchange '\(exchange.name)'")
        }
        for queue in topology.queues {
            CArena.with { arena in
                _ = amqp_queue_declare(
                    state, Self.channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0,
                    queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, arena.table(queue.arguments))
            }
            try checkReply(doing: "declaring queue '\(queue.name)'")
        }
        for binding in topology.bindings {
            try change(binding, "binding", with: amqp_queue_bind)
        }
        var retiredQueues: [String] = []
        for binding in topology.retiredBindings where !retiredQueues.contains(binding.queue) { retiredQueues.append(binding.queue) }
        for queue in retiredQueues where try exists(queue: queue) {
            for binding in topology.retiredBindings where binding.queue == queue {
                try change(binding, "unbinding", with: amqp_queue_unbind)
            }
        }
    }

    /// Binds or unbinds (`method`: `amqp_queue_bind` or `amqp_queue_unbind`, which take the same arguments).
    private func change<Reply>(
        _ binding: AMQPTopology.Binding, _ action: String,
        with method: (amqp_connection_state_t, amqp_channel_t, amqp_bytes_t, amqp_bytes_t, amqp_bytes_t, amqp_table_t) -> UnsafeMutablePointer<Reply>?
    ) throws {
        CArena.with { arena in
            _ = method(
                state, Self.channel, arena.bytes(binding.queue), arena.bytes(binding.exchange), arena.bytes(binding.routingKey), arena.table([:]))
        }
        try checkReply(doing: "\(action) queue '\(binding.queue)' and exchange '\(binding.exchange)' with key '\(binding.routingKey)'")
    }

    /// Whether `queue` exists (a passive declare, `depth(of:)`).
    private func exists(queue: String) throws -> Bool {
        try depth(of: queue) != nil
    }

    /// Puts the channel in confirm mode: the broker then acks every publish, numbering them from 1.
    func enablePublisherConfirms() throws {
        amqp_confirm_select(state, Self.channel)
        try checkReply(doing: "enabling publisher confirms")
    }

    /// Limits unacked deliveries per consumer (RabbitMQ applies a non-global prefetch to each consumer).
    func setPrefetch(_ count: UInt16) throws {
        amqp_basic_qos(state, Self.channel, 0, count, 0)
        try checkReply(doing: "setting prefetch \(count)")
    }

    /// Starts consuming with manual acks; returns the consumer tag the broker chose.
    func consume(queue: String) throws -> String {
        let consumeOk = CArena.with { arena in
            amqp_basic_consume(state, Self.channel, arena.bytes(queue), amqp_empty_bytes, 0, 0, 0, arena.table([:]))
        }
        try checkReply(doing: "consuming queue '\(queue)'")
        guard let consumeOk else {
            throw AMQPError.connectionFailed("consuming queue '\(queue)': no consumer tag in basic.consume-ok")
        }
        return String(consumeOk.pointee.consumer_tag)
    }

    func cancel(consumerTag: String) throws {
        CArena.with { arena in
            _ = amqp_basic_cancel(state, Self.channel, arena.bytes(consumerTag))
        }
        try checkReply(doing: "cancelling consumer '\(consumerTag)'")
    }

    /// Sends one message. Only writes: its confirm (or return) arrives later through `receive`.
    func publish(
        exchange: String, routingKey: String, body: [UInt8], properties: AMQPMessageProperties, mandatory: Bool
    ) throws {
        let status = CArena.with { arena in
            var cProperties = properties.cProperties(in: arena)
            return body.withUnsafeBytes { bodyBuffer in
                let body = amqp_bytes_t(len: bodyBuffer.count, bytes: UnsafeMutableRawPointer(mutating: bodyBuffer.baseAddress))
                return amqp_basic_publish(
                    state, Self.channel, arena.bytes(exchange), arena.bytes(routingKey),
                    mandatory ? 1 : 0, 0, &cProperties, body)
            }
        }
        try checkStatus(status, doing: "publishing to exchange '\(exchange)'")
    }

    /// Acks `deliveryTag`, and with `multiple` every unacked delivery before it on the channel too.
    func ack(deliveryTag: UInt64, multiple: Bool = false) throws {
        let status = amqp_basic_ack(state, Self.channel, deliveryTag, multiple ? 1 : 0)
        try checkStatus(status, doing: "acking delivery \(deliveryTag)")
    }

    func reject(deliveryTag: UInt64, requeue: Bool) throws {
        let status = amqp_basic_reject(state, Self.channel, deliveryTag, requeue ? 1 : 0)
        try checkStatus(status, doing: "rejecting delivery \(deliveryTag)")
    }

    /// Checks the status code of a call that only writes; a failed write means the connection is gone.
    private func checkStatus(_ status: Int32, doing action: String) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        markClosed()
        throw AMQPError.connectionFailed("\(action): \(String(amqpStatus: status))")
    }
}
