/// Everything that can go wrong talking to Redis. Messages never contain the password.
public enum RedisError: Error, CustomStringConvertible, Equatable {
    /// The configuration URL could not be parsed; the message says which part is wrong.
    case invalidURL(String)
    /// No usable connection: connecting failed, the client is backing off before the next
    /// attempt, or it was shut down. The command was not sent.
    case notConnected(String)
    /// The server did not answer within `commandTimeout`. The connection is dropped, because its
    /// late reply would otherwise be read as the answer to the next command.
    case timeout
    /// The server answered the command with an error reply (`-ERR ...`).
    case server(String)
    /// The connection broke while the command was in flight; it may or may not have run.
    case connectionLost(String)
    /// The server's bytes could not be parsed, or the command could not be encoded.
    case protocolError(String)

    public var description: String {
        switch self {
        case .invalidURL(let message): "invalid Redis URL: \(message)"
        case .notConnected(let reason): "not connected to Redis: \(reason)"
        case .timeout: "Redis command timed out"
        case .server(let message): "Redis error reply: \(message)"
        case .connectionLost(let reason): "Redis connection lost: \(reason)"
        case .protocolError(let message): "Redis protocol error: \(message)"
        }
    }
}
