/// Everything that can go wrong in this module, with a message meant for logs and readiness probes.
public enum AMQPError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The AMQP URL could not be parsed; the message says which part is wrong.
    case invalidURL(String)
    /// The connection is down (or backing off before a retry), so the call failed at once.
    case notConnected(String)
    /// Connecting, logging in or talking to the broker failed; the connection is being re-established.
    case connectionFailed(String)
    /// The broker did not answer within the configured timeout.
    case timeout(String)
    /// The broker closed the channel, e.g. because an exchange or queue does not exist.
    case channelClosed(String)
    /// The broker refused responsibility for a published message (basic.nack).
    case nacked

    public var description: String {
        switch self {
        case .invalidURL(let message): "invalid AMQP URL: \(message)"
        case .notConnected(let message): "not connected to RabbitMQ: \(message)"
        case .connectionFailed(let message): "RabbitMQ connection failed: \(message)"
        case .timeout(let message): "RabbitMQ timed out: \(message)"
        case .channelClosed(let message): "RabbitMQ closed the channel: \(message)"
        case .nacked: "RabbitMQ nacked the message (it was not accepted)"
        }
    }
}
