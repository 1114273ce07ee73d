import NIOHTTP1

/// Which browser origins may open streams and publish (`--cors-origin`, repeatable; `*` allows any).
public struct CORSPolicy: Sendable {
    public var allowedOrigins: [String]

    public init(allowedOrigins: [String]) { self.allowedOrigins = allowedOrigins }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, nil when not allowed.
    func allowOrigin(for origin: String?) -> String? {
        guard let origin else { return nil }
        if allowedOrigins.contains("*") { return "*" }
        return allowedOrigins.contains(origin) ? origin : nil
    }

    /// A browser request from an origin that is not on the list, when a list is configured: refused
    /// with 403 whatever its method, preflighted or not (a `text/plain` POST needs no preflight, so a
    /// missing `Access-Control-Allow-Origin` alone would not stop it from being carried out).
    /// A page the node served itself (the demo and admin pages) calling it back is not refused.
    func refuses(_ request: HTTPRequestHead) -> Bool {
        guard !allowedOrigins.isEmpty, let origin = request.headers.first(name: "origin") else { return false }
        return allowOrigin(for: origin) == nil && !Self.isSameOrigin(origin, request)
    }

    /// Whether `origin` is the request's own host (as the browser addressed it, or a proxy passed it on
    /// in `Host`): a browser sends `Origin` on its same-origin POSTs too, and never forges it.
    static func isSameOrigin(_ origin: String, _ request: HTTPRequestHead) -> Bool {
        isSameOrigin(origin, request.headers)
    }

    static func isSameOrigin(_ origin: String, _ headers: HTTPHeaders) -> Bool {
        guard let host = headers.first(name: "host"), !host.isEmpty else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    /// Whether a request whose credential is the token cookie comes from a page of another origin: a
    /// browser attaches the cookie to any site's form or script, a `multipart/form-data` form needing no
    /// preflight, so only the node's own origin and the origins on the list (never `*`) may use it. The
    /// origin is the `Origin` header, else the `Referer`'s; a request with neither is no page's.
    public func refusesCookie(_ headers: HTTPHeaders) -> Bool {
        guard let origin = Self.pageOrigin(headers) else { return false }
        return !Self.isSameOrigin(origin, headers) && !allowedOrigins.contains(origin)
    }

    /// `Origin`, or the scheme, host and port of `Referer`.
    static func pageOrigin(_ headers: HTTPHeaders) -> String? {
        if let origin = headers.first(name: "origin") { return origin }
        guard let referer = headers.first(name: "referer"), let schemeEnd = referer.range(of: "://") else { return nil }
        let rest = referer[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(referer[..<schemeEnd.upperBound]) + authority
    }

    /// Headers for an actual (non-preflight) response.
    func responseHeaders(for request: HTTPRequestHead) -> [(String, String)] {
        guard let allow = allowOrigin(for: request.headers.first(name: "origin")) else { return [] }
        var headers = [("Access-Control-Allow-Origin", allow)]
        if allow != "*" { headers.append(("Vary", "Origin")) }
        // A page on another origin reads when to try a refused send again.
        headers.append(("Access-Control-Expose-Headers", "Retry-After"))
        return headers
    }

    /// Headers answering a preflight `OPTIONS` request, nil when the origin is not allowed.
    func preflightHeaders(for request: HTTPRequestHead) -> [(String, String)]? {
        guard request.headers.first(name: "origin") != nil else { return nil }
        var headers = responseHeaders(for: request)
        guard !headers.isEmpty else { return nil }
        let requested = request.headers.first(name: "access-control-request-headers")
        headers.append(("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
        headers.append(("Access-Control-Allow-Headers", requested ?? "Content-Type, Last-Event-ID"))
        headers.append(("Access-Control-Max-Age", "600"))
        return headers
    }
}
