import Foundation

/// A `multipart/form-data` body as a browser's `FormData` makes it, for the upload tests.
struct MultipartForm {
    enum Part {
        case field(String, String)
        case file(String, filename: String, contentType: String, data: [UInt8])
    }

    let boundary = "----sse-test-\(TestEnvironment.uniqueName("b"))"
    var parts: [Part]

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    var body: [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            switch part {
            case .field(let name, let value):
                out += Array("Content-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n\(value)\r\n".utf8)
            case .file(let name, let filename, let contentType, let data):
                out += Array("Content-Disposition: form-data; name=\"\(Self.quoted(name))\"; filename=\"\(Self.quoted(filename))\"\r\n".utf8)
                out += Array("Content-Type: \(contentType)\r\n\r\n".utf8)
                out += data
                out += Array("\r\n".utf8)
            }
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// Chromium and Firefox write a `"` in a name or filename as `%22`; a backslash escape is the other
    /// form servers meet, and the one used here.
    private static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "\\\"")
    }
}
