/// Errors thrown by `HTTPClient` and `SSEStream`. Connection errors from the OS (refused, reset, unreachable)
/// are passed through as SwiftNIO's own error values.
public enum SSEClientError: Error, Equatable, CustomStringConvertible {
    /// The URL is not of the form `http://host[:port][/path][?query]`.
    case invalidURL(String)
    /// The server answered an SSE request with a status other than 200; carries the (possibly truncated) body.
    case unexpectedStatus(Int, String)
    /// The operation did not complete within its timeout.
    case timeout
    /// The server closed the connection before a complete response arrived.
    case connectionClosed

    public var description: String {
        switch self {
        case .invalidURL(let url):
            return "invalid URL: \(url)"
        case .unexpectedStatus(let status, let body):
            return body.isEmpty ? "unexpected HTTP status \(status)" : "unexpected HTTP status \(status): \(body)"
        case .timeout:
            return "timed out"
        case .connectionClosed:
            return "connection closed before the response was complete"
        }
    }
}
