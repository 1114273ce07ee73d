/// Keeps credentials out of logs.
public enum LogRedaction {
    /// `uri` with the value of every `token` query parameter replaced by `REDACTED`: a request URI may
    /// carry a subscriber's token (see `TokenSource`), and a logged token is a usable one until it expires.
    public static func uri(_ uri: String) -> String {
        guard uri.contains("?") else { return uri }
        let ranges = TokenSource.queryItems(of: uri).filter { $0.name == "token" && !$0.value.isEmpty }.map(\.value)
        guard !ranges.isEmpty else { return uri }
        var out = ""
        out.reserveCapacity(uri.utf8.count)
        var position = uri.startIndex
        for range in ranges {
            out += uri[position..<range.lowerBound]
            out += "REDACTED"
            position = range.upperBound
        }
        out += uri[position...]
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
