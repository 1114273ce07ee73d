import Foundation
import NIOHTTP1

/// Where a subscriber's token came from. A browser's `EventSource` cannot set headers, so besides
/// `Authorization: Bearer` it may send the token in a cookie or, last resort, in the URL (which proxies
/// and logs keep: see `LogRedaction`).
public enum TokenSource: Sendable, Equatable {
    case authorization
    case cookie
    case query

    /// The first token found, in this order: `Authorization: Bearer`, the cookie named `cookieName`,
    /// the `token` query parameter of `uri`. Nil when there is none (an empty value counts as none).
    public static func token(headers: HTTPHeaders, uri: String, cookieName: String) -> (token: String, source: TokenSource)? {
        if let token = bearerToken(headers) { return (token, .authorization) }
        if let token = cookie(named: cookieName, in: headers) { return (token, .cookie) }
        if let token = queryParameter("token", in: uri) { return (token, .query) }
        return nil
    }

    /// The credentials of the first `Authorization: Bearer …` header (scheme case-insensitive).
    public static func bearerToken(_ headers: HTTPHeaders) -> String? {
        for value in headers["authorization"] {
            let trimmed = blanksTrimmed(Substring(value))
            guard trimmed.utf8.count > 7, trimmed.utf8.prefix(6).lazy.map({ $0 | 0x20 }).elementsEqual("bearer".utf8) else { continue }
            let rest = Substring(trimmed.utf8.dropFirst(6))
            guard rest.utf8.first == 0x20 || rest.utf8.first == 0x09 else { continue }
            let token = blanksTrimmed(rest)
            if !token.isEmpty { return String(token) }
        }
        return nil
    }

    /// `text` without leading and trailing spaces and tabs, byte by byte: Foundation's
    /// `trimmingCharacters(in:)` cost more than verifying an HS256 token on every stream opening.
    static func blanksTrimmed(_ text: Substring) -> Substring {
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
            let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
        else { return text[text.endIndex...] }
        // Up to the byte after `last`: `first...last` would reach the end of the Character `last` is
        // in, which may hold blanks (U+0600 joins the space after it).
        return text[first..<bytes.index(after: last)]
    }

    /// The value of cookie `name` (case-sensitive, as browsers send it), over every `Cookie` header,
    /// with surrounding double quotes removed.
    public static func cookie(named name: String, in headers: HTTPHeaders) -> String? {
        for header in headers["cookie"] {
            for pair in header.split(separator: ";") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                guard pair[..<equals].trimmingCharacters(in: .whitespaces) == name else { continue }
                var value = Substring(pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces))
                if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
                if !value.isEmpty { return String(value) }
            }
        }
        return nil
    }

    /// The percent-decoded value of the first query parameter `name` of `uri` (its name percent-decoded
    /// too, as `URLComponents` decodes it for `StreamRequest`).
    static func queryParameter(_ name: String, in uri: String) -> String? {
        for item in queryItems(of: uri) where item.name == name {
            let raw = uri[item.value]
            let value = raw.contains("%") ? (raw.removingPercentEncoding ?? String(raw)) : String(raw)
            if !value.isEmpty { return value }
        }
        return nil
    }

    /// Each query item of `uri`: its decoded name and the range of its raw value (empty when it has no
    /// `=`). Anything after `#` is not part of the query.
    static func queryItems(of uri: String) -> [(name: String, value: Range<String.Index>)] {
        guard let question = uri.firstIndex(of: "?") else { return [] }
        let queryEnd = uri[question...].firstIndex(of: "#") ?? uri.endIndex
        let query = uri[uri.index(after: question)..<queryEnd]
        var items: [(name: String, value: Range<String.Index>)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let equals = item.firstIndex(of: "=")
            let rawName = item[..<(equals ?? item.endIndex)]
            let name = rawName.contains("%") ? (rawName.removingPercentEncoding ?? String(rawName)) : String(rawName)
            let valueStart = equals.map { item.index(after: $0) } ?? item.endIndex
            items.append((name, valueStart..<item.endIndex))
        }
        return items
    }
}
