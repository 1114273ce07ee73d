import Logging

/// Everything a connection's `HTTPHandler` serves, made once per node (`Node.routes`): the plain routes
/// by method and path, the stream and the sends (which take over how the connection is read), and the
/// rules every request meets.
struct HTTPRoutes: Sendable {
    let table: RouteTable
    let stream: StreamRoute
    let sends: SendRoute
    let cors: CORSPolicy
    /// `http.maxBodySize`: a plain route's body is read whole up to this.
    let maxBodySize: Int
    let logger: Logger
}
