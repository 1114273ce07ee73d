import NIOHTTP1

/// A file served as it is: the browser client (public code any page may import, so any origin may load
/// it: no credentials travel with it) or the demo and admin pages (same-origin HTML). `If-None-Match`
/// with its tag gets 304.
struct FileRoute: HTTPRoute {
    let file: BrowserClient.File
    let headers: [(String, String)]

    /// The browser client's files.
    static func client(_ file: BrowserClient.File) -> FileRoute {
        FileRoute(file: file, headers: [
            ("ETag", file.etag), ("Cache-Control", "public, max-age=300"), ("Access-Control-Allow-Origin", "*"),
            ("X-Content-Type-Options", "nosniff"),
        ])
    }

    /// A page of ours.
    static func page(_ file: BrowserClient.File) -> FileRoute {
        FileRoute(file: file, headers: [("ETag", file.etag)] + WebPages.headers)
    }

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        if request.head.headers[canonicalForm: "if-none-match"].contains(where: { $0 == file.etag || $0 == "*" }) {
            responder.respond(.notModified, body: nil, contentType: file.contentType, headers: headers)
        } else {
            responder.respond(.ok, body: file.body, contentType: file.contentType, headers: headers)
        }
    }
}
