/// Keeps credentials out of logs.
public enum LogRedaction {
    /// Query parameters whose values never carry a credential, and help whoever reads a log.
    static let loggedParameters: Set<Substring> = ["channel", "clientId", "user", "tenant", "session", "limit", "lastEventId"]

    /// `uri` for a log line: its path, and of its query only the parameters in `loggedParameters`; every
    /// other item becomes `…`, name and value. A token may stand anywhere in a query (`token=`, behind a
    /// `;`, as a bare item), and a logged token is a usable one until it expires.
    public static func uri(_ uri: String) -> String {
        guard let question = uri.firstIndex(of: "?") else { return uri }
        var out = String(uri[...question])
        let query = uri[uri.index(after: question)...].prefix { $0 != "#" }
        var first = true
        for item in query.split(whereSeparator: { $0 == "&" || $0 == ";" }) {
            if !first { out += "&" }
            first = false
            let name = item.prefix { $0 != "=" }
            out += loggedParameters.contains(name) && !item.contains("%") ? String(item) : "…"
        }
        return out
    }

    /// `url` without the user and password it may carry (`https://user:pass@host/…` → `https://host/…`).
    public static func url(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + rest[rest.index(after: at)...]
    }
}
