import CRabbitMQ

// The AMQP 0-9-1 login handshake, done by hand because rabbitmq-c's amqp_login and
// amqp_login_with_properties are C variadic functions, which Swift cannot call.
// It follows amqp_login_inner in rabbitmq-c 0.11 (amqp_socket.c) step by step.

extension AMQPConnection {
    private static let preferredFrameMax: UInt32 = UInt32(AMQP_DEFAULT_FRAME_SIZE)
    private static let preferredChannelMax: UInt16 = UInt16(AMQP_DEFAULT_MAX_CHANNELS)

    func logIn(before deadline: ContinuousClock.Instant) throws {
        let headerStatus = amqp_send_header(state)
        guard headerStatus == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.connectionFailed("sending the AMQP protocol header: \(String(amqpStatus: headerStatus))")
        }

        let start = try waitForHandshakeMethod(AMQP_CONNECTION_START_METHOD, before: deadline)
            .decoded.assumingMemoryBound(to: amqp_connection_start_t.self).pointee
        guard start.version_major == AMQP_PROTOCOL_VERSION_MAJOR, start.version_minor == AMQP_PROTOCOL_VERSION_MINOR else {
            throw AMQPError.connectionFailed(
                "the broker speaks AMQP \(start.version_major)-\(start.version_minor), not 0-9-1")
        }
        try sendStartOk()

        let tune = try waitForHandshakeMethod(AMQP_CONNECTION_TUNE_METHOD, before: deadline)
            .decoded.assumingMemoryBound(to: amqp_connection_tune_t.self).pointee
        try sendTuneOk(answering: tune)

        // connection.open is a plain RPC, bounded by the RPC timeout set on the connection.
        let reply = CArena.with { arena in
            var open = amqp_connection_open_t(
                virtual_host: arena.bytes(configuration.vhost), capabilities: amqp_empty_bytes, insist: 1)
            var expectedReplies: [amqp_method_number_t] = [AMQP_CONNECTION_OPEN_OK_METHOD, 0]
            return amqp_simple_rpc(state, 0, AMQP_CONNECTION_OPEN_METHOD, &expectedReplies, &open)
        }
        guard reply.isNormal else {
            throw failure(from: reply, doing: "opening vhost '\(configuration.vhost)'")
        }
        amqp_maybe_release_buffers(state)
    }

    /// connection.start-ok: who we are, and the PLAIN credentials.
    private func sendStartOk() throws {
        let status = CArena.with { arena in
            var properties: [(key: String, value: amqp_field_value_t)] = [
                ("product", arena.fieldValue(.string("sse-fanout RabbitMQ (rabbitmq-c)"))),
                ("version", arena.fieldValue(.string(String(cString: amqp_version())))),
                ("platform", arena.fieldValue(.string("Swift"))),
                ("capabilities", arena.fieldValue(arena.table([
                    "authentication_failure_close": .bool(true),
                    "consumer_cancel_notify": .bool(true),
                    "connection.blocked": .bool(true),
                    "basic.nack": .bool(true),
                    "publisher_confirms": .bool(true),
                ]))),
            ]
            if let connectionName = configuration.connectionName {
                properties.append(("connection_name", arena.fieldValue(.string(connectionName))))
            }
            // SASL PLAIN: an empty authorization identity, then user and password, NUL-separated.
            let response = [0] + Array(configuration.user.utf8) + [0] + Array(configuration.password.utf8)
            var startOk = amqp_connection_start_ok_t(
                client_properties: arena.table(properties),
                mechanism: arena.bytes("PLAIN"),
                response: arena.bytes(response),
                locale: arena.bytes("en_US"))
            return amqp_send_method(state, 0, AMQP_CONNECTION_START_OK_METHOD, &startOk)
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.connectionFailed("sending connection.start-ok: \(String(amqpStatus: status))")
        }
    }

    /// connection.tune-ok: the smaller of each limit the broker and we propose (0 means "no limit").
    private func sendTuneOk(answering tune: amqp_connection_tune_t) throws {
        let channelMax = tune.channel_max == 0 ? Self.preferredChannelMax : min(tune.channel_max, Self.preferredChannelMax)
        let frameMax = tune.frame_max == 0 ? Self.preferredFrameMax : min(tune.frame_max, Self.preferredFrameMax)
        var heartbeat = UInt16(clamping: configuration.heartbeat)
        if tune.heartbeat != 0 && tune.heartbeat < heartbeat {
            heartbeat = tune.heartbeat
        }

        let tuneStatus = amqp_tune_connection(state, Int32(channelMax), Int32(frameMax), Int32(heartbeat))
        guard tuneStatus == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.connectionFailed("applying connection limits: \(String(amqpStatus: tuneStatus))")
        }
        var tuneOk = amqp_connection_tune_ok_t(channel_max: channelMax, frame_max: frameMax, heartbeat: heartbeat)
        let status = amqp_send_method(state, 0, AMQP_CONNECTION_TUNE_OK_METHOD, &tuneOk)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.connectionFailed("sending connection.tune-ok: \(String(amqpStatus: status))")
        }
    }

    /// Waits for one handshake method on channel 0; a connection.close instead (e.g. wrong password) is an error.
    private func waitForHandshakeMethod(
        _ expected: amqp_method_number_t, before deadline: ContinuousClock.Instant
    ) throws -> amqp_method_t {
        let action = "logging in as '\(configuration.user)'"
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw AMQPError.timeout("\(action): no answer within \(configuration.connectTimeout)")
            }
            var frame = amqp_frame_t()
            var timeout = CTimeval(remaining)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue { continue }
            guard status == AMQP_STATUS_OK.rawValue else {
                markClosed()
                throw AMQPError.connectionFailed("\(action): \(String(amqpStatus: status))")
            }
            guard frame.channel == 0, frame.frame_type == AMQP_FRAME_METHOD else { continue }
            let method = frame.payload.method
            if method.id == expected { return method }
            throw failure(fromCloseMethod: method, doing: action)
        }
    }
}
