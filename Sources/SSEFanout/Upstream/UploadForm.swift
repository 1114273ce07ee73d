import Foundation
import MultipartKit
import NIOCore
import NIOHTTP1

/// An upload's `multipart/form-data` body, parsed with MultipartKit: its text fields and its files.
struct UploadForm: Sendable {
    struct File: Sendable {
        /// The form field the file was sent as.
        var field: String
        var filename: String
        /// As the browser said (`application/octet-stream` when it did not).
        var contentType: String
        var data: ByteBuffer
    }

    /// Text fields, in order (a name may come more than once).
    var fields: [(name: String, value: String)] = []
    var files: [File] = []

    /// A form with more parts than this is refused: each part costs bookkeeping whatever its size.
    static let maxParts = 1000

    init(body: ByteBuffer, boundary: String) throws(SendRefusal) {
        // The parser stops quietly where the bytes end, so a form cut short would lose its last parts:
        // a complete one ends with its closing delimiter (and at most a short epilogue).
        let closing = Array("--\(boundary)--".utf8)
        let tail = body.readableBytesView.suffix(closing.count + 64)
        guard tail.firstRange(of: closing) != nil else {
            throw SendRefusal(.badRequest, "invalid_multipart", "the form does not end with its closing boundary")
        }
        let parser = MultipartParser(boundary: boundary)
        var parts: [MultipartPart] = []
        var headers = HTTPHeaders()
        var data = ByteBuffer()
        var tooMany = false
        parser.onHeader = { name, value in headers.add(name: name, value: value) }
        parser.onBody = { chunk in data.writeBuffer(&chunk) }
        parser.onPartComplete = {
            guard parts.count < Self.maxParts else { tooMany = true; return }
            parts.append(MultipartPart(headers: headers, body: data))
            headers = HTTPHeaders()
            data = ByteBuffer()
        }
        do {
            try parser.execute(body)
        } catch {
            throw SendRefusal(.badRequest, "invalid_multipart", "the form is not valid multipart/form-data")
        }
        guard !tooMany else { throw SendRefusal(.badRequest, "too_many_parts", "a form may have at most \(Self.maxParts) parts") }
        for part in parts {
            let disposition = Self.parameters(of: part.headers.first(name: "content-disposition") ?? "")
            guard let name = disposition["name"], !name.isEmpty else {
                throw SendRefusal(.badRequest, "invalid_multipart", "every part of the form needs a Content-Disposition with a name")
            }
            if let filename = disposition["filename"] {
                files.append(File(
                    field: name, filename: filename, contentType: part.headers.first(name: "content-type") ?? "application/octet-stream",
                    data: part.body))
            } else {
                fields.append((name, String(decoding: part.body.readableBytesView, as: UTF8.self)))
            }
        }
    }

    /// The parameters of a `Content-Disposition: form-data; name="a"; filename="b.txt"` value, names in
    /// lower case, quoted values unquoted (a browser escapes `"` inside as `\"` or `%22`).
    static func parameters(of value: String) -> [String: String] {
        var parameters: [String: String] = [:]
        var rest = Substring(value)
        // The disposition type itself.
        guard let semicolon = rest.firstIndex(of: ";") else { return [:] }
        rest = rest[rest.index(after: semicolon)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == ";" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...].drop { $0 == " " || $0 == "\t" }
            var parsed = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        parsed.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        parsed.append(character)
                    }
                }
                rest = rest.drop { $0 != ";" }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                parsed = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            if parameters[name] == nil { parameters[name] = parsed }
        }
        return parameters
    }
}
