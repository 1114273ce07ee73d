import Foundation
import NIOCore

/// What a send or an upload becomes on `sse.upstream` (README, "Browser → server"): one JSON object
/// with the send's id, who sent it, where to, its query, and its body (a send's JSON as it came, an
/// upload's fields and files, the files base64-encoded).
struct UpstreamMessage: Sendable {
    enum Payload: Sendable {
        /// A send's body: JSON, already checked, embedded as it came.
        case json(ByteBuffer)
        case form(UploadForm)
    }

    var id: String
    var kind: SendKind
    var path: SendPath
    var query: SendQuery
    var identity: SendIdentity
    var idempotencyKey: String?
    /// When the node had the whole request, ms since 1970.
    var receivedAt: Int64
    var payload: Payload

    /// The JSON body. Fields that do not apply (no user, session, client or connection) are left out;
    /// a query parameter or form field given more than once maps to an array of its values.
    func encoded() -> [UInt8] {
        // The small members are written as text; a body and files are appended as bytes, so that an
        // upload's megabytes are not copied through a String as well.
        var out = "{"
        member("id", id, &out)
        member("kind", kind.rawValue, &out)
        member("path", path.value, &out)
        out += ",\"query\":"
        Self.appendObject(query.items, to: &out)
        ConnectionCodec.appendIdentity(identity.addresses, tenant: identity.tenant, absent: .omitted, without: ConnectionCodec.severalKinds, to: &out)
        if let connectionID = identity.connectionID { member("connectionId", connectionID, &out) }
        if let idempotencyKey { member("idempotencyKey", idempotencyKey, &out) }
        out += ",\"receivedAt\":\(receivedAt)"
        var bytes: [UInt8]
        switch payload {
        case .json(let body):
            out += ",\"body\":"
            bytes = Array(out.utf8)
            bytes += body.readableBytesView
        case .form(let form):
            out += ",\"fields\":"
            Self.appendObject(form.fields, to: &out)
            out += ",\"files\":["
            bytes = Array(out.utf8)
            bytes.reserveCapacity(bytes.count + form.files.reduce(0) { $0 + $1.data.readableBytes * 4 / 3 + 256 })
            for (index, file) in form.files.enumerated() {
                var head = index == 0 ? "{\"field\":" : ",{\"field\":"
                JSONString.append(file.field, to: &head)
                member("filename", file.filename, &head)
                member("contentType", file.contentType, &head)
                head += ",\"size\":\(file.data.readableBytes),\"data\":\""
                bytes += head.utf8
                bytes += Data(file.data.readableBytesView).base64EncodedData()
                bytes += "\"}".utf8
            }
            bytes += "]".utf8
        }
        bytes += "}".utf8
        return bytes
    }

    /// AMQP headers, so a consumer can route or filter without parsing the body.
    var headers: [String: String] {
        var headers = ["x-sse-kind": kind.rawValue, "x-sse-path": path.value]
        for (name, value) in identity.headers { headers[name.lowercased()] = value }
        return headers
    }

    /// `,"name":"value"` (no comma right after an opening brace).
    private func member(_ name: String, _ value: String, _ out: inout String) {
        if out.utf8.last != UInt8(ascii: "{") { out += "," }
        JSONString.append(name, to: &out)
        out += ":"
        JSONString.append(value, to: &out)
    }

    /// `{"a": "1", "b": ["2", "3"]}`: names in first-seen order, repeated ones as arrays.
    private static func appendObject(_ items: [(name: String, value: String)], to out: inout String) {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for (name, value) in items {
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(value)
        }
        out += "{"
        for (index, name) in order.enumerated() {
            if index > 0 { out += "," }
            JSONString.append(name, to: &out)
            out += ":"
            let all = values[name] ?? []
            if all.count == 1 { JSONString.append(all[0], to: &out) } else { JSONString.appendArray(all, to: &out) }
        }
        out += "}"
    }
}
