import Logging
import NIOCore
import NIOHTTP1

/// One request as a plain route sees it: its head, its path, and its whole body (read under
/// `http.maxBodySize` before the route is called).
struct HTTPRequest: Sendable {
    let head: HTTPRequestHead
    /// The path without its query.
    let path: String
    let body: [UInt8]
    /// The loop of the connection it came on: where `HTTPResponder` writes the answer.
    let eventLoop: EventLoop

    /// The path of a request URI, without its query.
    static func path(of uri: String) -> String {
        uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
    }

    /// Bodies are JSON: anything else (a form, `text/plain`, which a page can send anywhere without a
    /// preflight) is refused before it is read as one. Answers 415 and returns false otherwise.
    func requireJSON(_ responder: HTTPResponder) -> Bool {
        let type = head.headers.first(name: "content-type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            responder.respond(.unsupportedMediaType, JSONBody.error("unsupported_media_type", "the body must be sent as Content-Type: application/json"))
            return false
        }
        return true
    }

    /// The publisher's credential for a route that needs one (publish, disconnect, presence, admin,
    /// metrics), or nil after answering 401/403.
    func publisher(_ authenticator: Authenticator, _ responder: HTTPResponder, logger: Logger) -> PublisherCredential? {
        do {
            return try authenticator.publisher(headers: head.headers)
        } catch {
            logger.info("refused publisher", metadata: ["error": "\(error.code)"])
            responder.respond(error.status, JSONBody.error(error.code, error.message))
            return nil
        }
    }
}
