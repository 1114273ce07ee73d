import NIOHTTP1

extension HTTPRequestHead {
    /// An HTTP/1.1 request head for `url` carrying `Host`, then `defaults`, then the caller's `headers`;
    /// a default (including `Host`) is left out when the caller sets a header of the same name.
    init(method: String, url: HTTPURL, defaults: [(String, String)], headers: [(String, String)]) {
        var fields = HTTPHeaders()
        for (name, value) in [("Host", url.hostHeader)] + defaults where !headers.containsHeader(name) {
            fields.add(name: name, value: value)
        }
        fields.add(contentsOf: headers)
        self.init(version: .http1_1, method: HTTPMethod(rawValue: method), uri: url.target, headers: fields)
    }
}
