import CRabbitMQ

extension AMQPConnection {
    /// The socket, to poll for readability alongside other things.
    var socketDescriptor: Int32 { amqp_get_sockfd(state) }

    /// Whether rabbitmq-c already holds received bytes or frames, which polling the socket would miss.
    var hasBufferedInput: Bool { amqp_data_in_buffer(state) != 0 || amqp_frames_enqueued(state) != 0 }

    /// Waits up to `timeout` (zero: only what has already arrived) for the next thing the broker sends.
    ///
    /// Returns nil when nothing arrived in time. Calling in regularly is also what keeps the
    /// connection alive: rabbitmq-c sends and checks heartbeats only inside its own calls.
    /// Throws when the broker closes the channel or the connection, or the socket fails.
    func receive(timeout: Duration) throws -> InboundEvent? {
        // Frees the memory of frames read by earlier calls once nothing refers to it any more.
        amqp_maybe_release_buffers(state)

        var envelope = amqp_envelope_t()
        var pollTimeout = CTimeval(timeout)
        let reply = amqp_consume_message(state, &envelope, &pollTimeout, 0)
        if reply.isNormal {
            defer { amqp_destroy_envelope(&envelope) }
            return .delivery(InboundDelivery(
                consumerTag: String(envelope.consumer_tag),
                deliveryTag: envelope.delivery_tag,
                redelivered: envelope.redelivered != 0,
                exchange: String(envelope.exchange),
                routingKey: String(envelope.routing_key),
                properties: AMQPMessageProperties(envelope.message.properties),
                body: Array(envelope.message.body)))
        }
        if reply.isLibraryError(AMQP_STATUS_TIMEOUT) {
            return nil
        }
        if reply.isLibraryError(AMQP_STATUS_UNEXPECTED_STATE) {
            // Not a basic.deliver: rabbitmq-c put the frame back for us to read, as in its examples.
            return try readOtherMethod()
        }
        throw failure(from: reply, doing: "receiving from the broker")
    }

    private func readOtherMethod() throws -> InboundEvent? {
        var frame = amqp_frame_t()
        var timeout = CTimeval(configuration.rpcTimeout)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            markClosed()
            throw AMQPError.connectionFailed("reading a frame from the broker: \(String(amqpStatus: status))")
        }
        guard frame.frame_type == AMQP_FRAME_METHOD else {
            return .ignored("frame of type \(frame.frame_type)")
        }

        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_ACK_METHOD:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .publisherAck(deliveryTag: ack.delivery_tag, multiple: ack.multiple != 0)
        case AMQP_BASIC_NACK_METHOD:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .publisherNack(deliveryTag: nack.delivery_tag, multiple: nack.multiple != 0)
        case AMQP_BASIC_RETURN_METHOD:
            let basicReturn = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let reason = "\(String(basicReturn.reply_text)) (\(basicReturn.reply_code))"
            return .returned(messageId: try readReturnedMessageId(channel: frame.channel), reason: reason)
        case AMQP_BASIC_CANCEL_METHOD:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .consumerCancelled(consumerTag: String(cancel.consumer_tag))
        case AMQP_CONNECTION_BLOCKED_METHOD:
            let blocked = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            return .connectionBlocked(reason: String(blocked.reason))
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            return .connectionUnblocked
        case AMQP_CHANNEL_CLOSE_METHOD, AMQP_CONNECTION_CLOSE_METHOD:
            throw failure(fromCloseMethod: method, doing: "receiving from the broker")
        default:
            return .ignored(String(cString: amqp_method_name(method.id)))
        }
    }

    /// A basic.return is followed by the message's header and body; read them to learn its message id.
    private func readReturnedMessageId(channel: amqp_channel_t) throws -> String? {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, channel, &message, 0)
        guard reply.isNormal else {
            throw failure(from: reply, doing: "reading a returned message")
        }
        defer { amqp_destroy_message(&message) }
        return AMQPMessageProperties(message.properties).messageId
    }
}
