// `GET /events` request heads: the first line of the input is the request URI, each further line a
// `Name: value` header. Runs what HTTPHandler runs on them before a stream opens: the log line's
// redaction and escaping, the CORS checks (the cookie's origin too), StreamRequest (query and
// `Last-Event-ID`), TokenSource (the token from `Authorization`, the cookie or the query) and the
// resume token.
import Foundation
import NIOHTTP1

@testable import SSEFanout

let cors = CORSPolicy(allowedOrigins: ["https://app.example"])

/// RFC 9110 `tchar`.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
    default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let lines = text(start, count).split(separator: "\n", omittingEmptySubsequences: false)
    let uri = String(lines[0])
    var headers = HTTPHeaders()
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        // As llhttp lets them through: a name is a token, ASCII only.
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else { continue }
        // NIO drops the blanks before a value, not those after it.
        let value = line[line.index(after: colon)...].utf8.drop { $0 == 0x20 || $0 == 0x09 }
        headers.add(name: name, value: String(Substring(value)))
    }
    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)

    // Whatever the query holds, the log line keeps only the parameters that carry no credential.
    let logged = LogRedaction.uri(uri)
    if let question = logged.firstIndex(of: "?") {
        for item in logged[logged.index(after: question)...].split(separator: "&") where item != "…" {
            require(LogRedaction.loggedParameters.contains(item.prefix { $0 != "=" }), "a parameter that may carry a token was logged")
        }
    }
    let escaped = EscapingLogHandler.escape(logged)
    require(!escaped.unicodeScalars.contains { [.control, .format, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) },
            "a character that breaks or disguises a log line survived escaping")

    _ = cors.refuses(head)
    _ = cors.refusesCookie(headers)
    _ = cors.responseHeaders(for: head)
    _ = cors.preflightHeaders(for: head)

    if let (token, source) = TokenSource.token(headers: headers, uri: uri, cookieName: "sse_token") {
        require(!token.isEmpty, "an empty token was found")
        if source == .authorization {
            let edges = [token.utf8.first!, token.utf8.last!]
            require(!edges.contains(0x20) && !edges.contains(0x09), "bearer token with a space or tab around it")
        }
    }

    if let request = try? StreamRequest(uri: uri, lastEventIDHeader: headers.first(name: "last-event-id")) {
        require(request.channels.count <= StreamRequest.maxChannels, "too many channels")
        require(Set(request.channels).count == request.channels.count, "a channel twice")
        for id in [request.user, request.session, request.clientID].compactMap({ $0 }) + request.channels {
            require(!id.isEmpty && id.utf8.count <= Identifier.maxLength, "identifier length out of range")
        }
        require(request.tenant.isEmpty || Identifier.isTenant(request.tenant), "invalid tenant")
        require(request.lastEventID?.isEmpty != true, "empty Last-Event-ID kept")
        for address in request.addresses {
            _ = address.key
            _ = address.tag
        }
        if let lastEventID = request.lastEventID, let token = ResumeToken(text: lastEventID) {
            _ = request.addresses.map { token.position(of: $0) }
        }
    }
    return 0
}
