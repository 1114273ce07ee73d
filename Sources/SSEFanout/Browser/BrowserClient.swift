import Crypto
import NIOCore

/// The browser client every node serves: `GET /sse.js` (an ES module) and `GET /sse.d.ts` (its
/// types), cacheable with a strong `ETag`, and loadable from any origin (a page elsewhere imports it).
/// Their text is compiled in (`BrowserClient+Files.swift`), so a client fix ships with the server.
enum BrowserClient {
    struct File: Sendable {
        let body: ByteBuffer
        let contentType: String
        let etag: String
    }

    static let module = file(moduleSource, contentType: "text/javascript; charset=utf-8")
    static let types = file(typesSource, contentType: "application/typescript; charset=utf-8")

    /// The file a path names, if it is one of them.
    static func file(at path: String) -> File? {
        switch path {
        case "/sse.js": module
        case "/sse.d.ts": types
        default: nil
        }
    }

    static func file(_ text: String, contentType: String) -> File {
        let digest = SHA256.hash(data: Array(text.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return File(body: ByteBuffer(string: text), contentType: contentType, etag: "\"\(digest)\"")
    }
}
