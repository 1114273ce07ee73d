/// Failures of a scenario or of one of its connections.
enum BenchError: Error, CustomStringConvertible {
    case closedBeforeResponse
    case badResponse(String)
    case openTimeout(seconds: Int)
    case procUnreadable(String)
    /// A system call of the load tool's own failed (socket, connect, epoll).
    case system(String)

    var description: String {
        switch self {
        case .closedBeforeResponse: "the server closed the connection before answering"
        case .badResponse(let detail): "unexpected response: \(detail)"
        case .openTimeout(let seconds): "no response within \(seconds) s"
        case .procUnreadable(let path): "cannot read \(path)"
        case .system(let detail): detail
        }
    }
}
