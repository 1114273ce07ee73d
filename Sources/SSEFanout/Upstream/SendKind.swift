/// What a browser sends back to the server: a JSON body (`POST /send/<path>`) or a multipart form
/// with files (`POST /upload/<path>`).
enum SendKind: String, Sendable {
    case send
    case upload

    /// The route's first segment, `/send/` or `/upload/`.
    var routePrefix: String { "/\(rawValue)/" }

    /// The kind a request path names, with the rest of the path after its prefix.
    static func of(path: String) -> (kind: SendKind, rest: Substring)? {
        for kind in [SendKind.send, .upload] where path.hasPrefix(kind.routePrefix) {
            return (kind, path.dropFirst(kind.routePrefix.count))
        }
        return nil
    }
}
