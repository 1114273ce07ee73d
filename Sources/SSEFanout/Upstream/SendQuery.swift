import Foundation

/// The query of a send: what the backend gets (forwarded as written, or decoded into the message),
/// without the caller's credentials and, with authentication off, without the parameters that said who
/// the sender is.
struct SendQuery: Sendable {
    /// The items kept, as they were written (`a=1&b=x%20y`): appended to the upstream URL unchanged.
    var raw: String
    /// The same items decoded as a form (`+` is a space), in order.
    var items: [(name: String, value: String)]
    /// `user`, `tenant`, `session` as given (percent-decoded, as for streams), taken out of `items`.
    var identity: [String: String]

    static let identityNames: Set<String> = ["user", "tenant", "session"]

    init(uri: String) {
        var kept: [Substring] = []
        var items: [(name: String, value: String)] = []
        var identity: [String: String] = [:]
        if let question = uri.firstIndex(of: "?") {
            let end = uri[question...].firstIndex(of: "#") ?? uri.endIndex
            for item in uri[uri.index(after: question)..<end].split(separator: "&") {
                let equals = item.firstIndex(of: "=")
                let rawName = item[..<(equals ?? item.endIndex)]
                let rawValue = equals.map { item[item.index(after: $0)...] } ?? ""
                let name = Self.formDecoded(rawName)
                if name == "token" { continue }
                if Self.identityNames.contains(name) {
                    identity[name] = rawValue.removingPercentEncoding ?? String(rawValue)
                    continue
                }
                kept.append(item)
                items.append((name, Self.formDecoded(rawValue)))
            }
        }
        self.raw = kept.joined(separator: "&")
        self.items = items
        self.identity = identity
    }

    /// `application/x-www-form-urlencoded` decoding, as a browser's `URLSearchParams` encodes.
    private static func formDecoded(_ text: Substring) -> String {
        let spaced = text.contains("+") ? text.replacingOccurrences(of: "+", with: " ") : String(text)
        return spaced.removingPercentEncoding ?? spaced
    }
}
