import ArgumentParser

/// Where a stream request carries its token (sse-fanout also reads a cookie, which the tool does not send).
enum TokenPlacement: String, ExpressibleByArgument, CaseIterable, Codable, Sendable {
    /// `Authorization: Bearer <token>`, as an app's own client (or a fetch-based EventSource) sends it.
    case header
    /// `?token=<token>`, as a browser's `EventSource` has to.
    case query
}
