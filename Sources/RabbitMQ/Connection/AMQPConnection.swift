import CRabbitMQ
import Logging

/// One rabbitmq-c connection with one open channel, wrapped in Swift calls that throw `AMQPError`.
///
/// Not thread-safe, like rabbitmq-c itself: create, use and release it on one thread only
/// (a `ConnectionThread`). Releasing it destroys the C connection and closes its socket.
final class AMQPConnection {
    /// The channel every call uses; one per connection is all a publisher or consumer needs.
    static let channel: amqp_channel_t = 1

    let configuration: AMQPConfiguration
    let logger: Logger
    let state: amqp_connection_state_t
    /// False once the broker or the socket closed the connection; then only release it.
    private(set) var isOpen = false

    /// Connects, logs in and opens the channel, all within `configuration.connectTimeout`.
    static func open(configuration: AMQPConfiguration, logger: Logger) throws -> AMQPConnection {
        guard let state = amqp_new_connection() else {
            throw AMQPError.connectionFailed("rabbitmq-c could not allocate a connection")
        }
        let connection = AMQPConnection(state: state, configuration: configuration, logger: logger)
        try connection.connect()
        return connection
    }

    private init(state: amqp_connection_state_t, configuration: AMQPConfiguration, logger: Logger) {
        self.state = state
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        amqp_destroy_connection(state)
    }

    private func connect() throws {
        let deadline = ContinuousClock.now + configuration.connectTimeout
        guard let socket = amqp_tcp_socket_new(state) else {
            throw AMQPError.connectionFailed("rabbitmq-c could not allocate a TCP socket")
        }
        var connectTimeout = CTimeval(configuration.connectTimeout)
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError.connectionFailed(
                "cannot connect to \(configuration.host):\(configuration.port): \(String(amqpStatus: status))")
        }
        isOpen = true

        var rpcTimeout = CTimeval(configuration.rpcTimeout)
        amqp_set_rpc_timeout(state, &rpcTimeout)

        try logIn(before: deadline)
        amqp_channel_open(state, Self.channel)
        try checkReply(doing: "opening channel \(Self.channel)")
    }

    /// Asks the broker to close the connection, waiting at most `rpcTimeout` for its answer.
    func close() {
        guard isOpen else { return }
        isOpen = false
        let reply = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        if !reply.isNormal {
            logger.debug("RabbitMQ did not confirm closing the connection", metadata: ["reply": "\(reply.reply_type)"])
        }
    }

    /// Records that the socket is gone, so `close` does not try to talk to the broker.
    func markClosed() {
        isOpen = false
    }

    /// Opens the channel again after the broker closed it (the connection is still fine).
    func reopenChannel() throws {
        amqp_channel_open(state, Self.channel)
        try checkReply(doing: "reopening channel \(Self.channel)")
    }

    // MARK: Replies and errors

    /// Turns the reply of the last synchronous rabbitmq-c call into an error, if it is one.
    func checkReply(doing action: String) throws {
        let reply = amqp_get_rpc_reply(state)
        guard !reply.isNormal else { return }
        throw failure(from: reply, doing: action)
    }

    /// The error for a failed reply. Answers a close from the broker with close-ok, as the protocol requires.
    func failure(from reply: amqp_rpc_reply_t, doing action: String) -> AMQPError {
        switch reply.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue {
                // rabbitmq-c closes the socket after an RPC timeout.
                isOpen = false
                return .timeout("\(action): no answer from the broker within \(configuration.rpcTimeout)")
            }
            isOpen = false
            return .connectionFailed("\(action): \(String(amqpStatus: reply.library_error))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            return failure(fromCloseMethod: reply.reply, doing: action)
        default:
            isOpen = false
            return .connectionFailed("\(action): rabbitmq-c returned no reply")
        }
    }

    /// The error for a channel.close or connection.close sent by the broker, after answering it.
    func failure(fromCloseMethod method: amqp_method_t, doing action: String) -> AMQPError {
        switch method.id {
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let reason = "\(action): \(String(close.reply_text)) (\(close.reply_code))"
            var closeOk = amqp_channel_close_ok_t()
            amqp_send_method(state, Self.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &closeOk)
            return .channelClosed(reason)
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let reason = "\(action): the broker closed the connection: \(String(close.reply_text)) (\(close.reply_code))"
            var closeOk = amqp_connection_close_ok_t()
            amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &closeOk)
            isOpen = false
            return .connectionFailed(reason)
        default:
            isOpen = false
            return .connectionFailed("\(action): unexpected \(String(cString: amqp_method_name(method.id)))")
        }
    }
}
