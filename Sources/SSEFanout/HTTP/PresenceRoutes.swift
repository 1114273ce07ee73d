import Foundation
import NIOHTTP1

/// The presence routes (README, "Presence"), answered from the registry's presence indexes:
///
/// - `GET /presence/users?tenant=&channel=&cursor=&limit=` → `{"users": [{"user", "connections", "onlineSince"}], "cursor"}`
/// - `GET /presence/users/<id>?tenant=&limit=` → `{"user", "tenant", "online", "onlineSince", "connections": [...]}`
/// - `GET /presence/connections?user=&session=&channel=&tenant=&cursor=&limit=` → `{"connections": [...], "cursor"}`
///
/// `cursor` is opaque to clients (the base64url of the last id a page looked at) and null on the last
/// page; `limit` is 1…1000, 100 by default. Bad parameters answer 400, an unreachable store 503, both
/// with the usual `{"error", "message"}`. The caller checks the publisher credential first and passes
/// the tenant a credential is confined to, if any: such a caller may only ask about that tenant.
public enum PresenceRoutes {
    public static let defaultLimit = 100
    public static let maxLimit = 1000

    /// Whether `path` (without its query) belongs to these routes.
    public static func handles(_ path: String) -> Bool {
        path == "/presence" || path.hasPrefix("/presence/")
    }

    /// Answers a request for `uri` (path and query, as in the request line).
    public static func answer(uri: String, presence: any Presence, confinedTenant: String? = nil) async -> (status: HTTPResponseStatus, body: [UInt8]) {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        guard let components = URLComponents(string: uri) else {
            return (.badRequest, JSONBody.error("invalid_query", "the request URI could not be parsed"))
        }
        return await answer(path: path, query: components.queryItems ?? [], presence: presence, confinedTenant: confinedTenant)
    }

    /// Answers a GET of `path` (still percent-encoded, without its query) with `query` parsed.
    public static func answer(
        path: String, query: [URLQueryItem], presence: any Presence, confinedTenant: String? = nil
    ) async -> (status: HTTPResponseStatus, body: [UInt8]) {
        let parameters: Parameters
        do {
            parameters = try Parameters(query, confinedTenant: confinedTenant)
        } catch {
            return (error.code == "tenant_not_allowed" ? .forbidden : .badRequest, JSONBody.error(error.code, error.message))
        }
        do {
            switch path {
            case "/presence/users":
                let page = try await presence.onlineUsers(
                    tenant: parameters.tenant, channel: parameters.channel, after: parameters.cursor, limit: parameters.limit)
                return (.ok, Self.users(page))
            case "/presence/connections":
                let filter = ConnectionFilter(tenant: parameters.tenant, user: parameters.user, session: parameters.session, channel: parameters.channel)
                return (.ok, Self.connections(try await presence.connections(filter, after: parameters.cursor, limit: parameters.limit)))
            default:
                guard path.hasPrefix("/presence/users/"), let user = Self.segment(path.dropFirst("/presence/users/".count)) else {
                    return (.notFound, JSONBody.error("not_found", "no route for \(path)"))
                }
                do {
                    try Identifier.validate("user", user)
                } catch {
                    return (.badRequest, JSONBody.error(error.code, error.message))
                }
                return (.ok, Self.user(try await presence.userPresence(user, tenant: parameters.tenant, limit: parameters.limit)))
            }
        } catch {
            return (.serviceUnavailable, JSONBody.error("unavailable", "presence unavailable: \(error)"))
        }
    }

    /// The query parameters every presence route understands; unknown ones are ignored.
    private struct Parameters {
        var tenant = ""
        var user: String?
        var session: String?
        var channel: String?
        var cursor: String?
        var limit = PresenceRoutes.defaultLimit

        init(_ items: [URLQueryItem], confinedTenant: String?) throws(PublicationError) {
            var tenant: String?
            for item in items {
                let value = item.value ?? ""
                switch item.name {
                case "tenant" where !value.isEmpty:
                    try Identifier.validateTenant("tenant", value)
                    tenant = value
                case "tenant": tenant = ""
                case "user": user = try Self.identifier("user", value)
                case "session": session = try Self.identifier("session", value)
                case "channel": channel = try Self.identifier("channel", value)
                case "cursor" where !value.isEmpty:
                    guard let bytes = Base64URL.decode(value.utf8), let text = String(validating: bytes, as: UTF8.self), !text.isEmpty else {
                        throw PublicationError("invalid_cursor", "'cursor' must be a cursor a previous page returned")
                    }
                    cursor = text
                case "cursor": cursor = nil
                case "limit":
                    guard let limit = Int(value), (1...PresenceRoutes.maxLimit).contains(limit) else {
                        throw PublicationError("invalid_limit", "'limit' must be a whole number from 1 to \(PresenceRoutes.maxLimit)")
                    }
                    self.limit = limit
                default: continue
                }
            }
            if let confinedTenant {
                if let tenant, tenant != confinedTenant {
                    throw PublicationError("tenant_not_allowed", "the credentials only allow asking about tenant '\(confinedTenant)'")
                }
                tenant = confinedTenant
            }
            self.tenant = tenant ?? ""
        }

        private static func identifier(_ name: String, _ value: String) throws(PublicationError) -> String {
            try Identifier.validate(name, value)
            return value
        }
    }

    /// One percent-decoded path segment; nil when empty or holding a `/`.
    private static func segment(_ text: Substring) -> String? {
        guard !text.isEmpty, !text.contains("/") else { return nil }
        return text.removingPercentEncoding
    }

    // MARK: - Bodies (written by hand: a page holds up to a thousand items)

    private static func users(_ page: PresencePage<OnlineUser>) -> [UInt8] {
        var json = #"{"users":["#
        for (index, user) in page.items.enumerated() {
            if index > 0 { json += "," }
            json += #"{"user":"#
            JSONBody.appendString(user.user, to: &json)
            json += #","connections":\#(user.connections),"onlineSince":\#(user.onlineSince)}"#
        }
        json += "],"
        appendCursor(page.next, to: &json)
        json += "}"
        return Array(json.utf8)
    }

    private static func connections(_ page: PresencePage<ConnectionRecord>) -> [UInt8] {
        var json = #"{"connections":["#
        for (index, record) in page.items.enumerated() {
            if index > 0 { json += "," }
            appendConnection(record, to: &json)
        }
        json += "],"
        appendCursor(page.next, to: &json)
        json += "}"
        return Array(json.utf8)
    }

    private static func user(_ presence: UserPresence) -> [UInt8] {
        var json = #"{"user":"#
        JSONBody.appendString(presence.user, to: &json)
        json += #","tenant":"#
        JSONBody.appendString(presence.tenant, to: &json)
        json += #","online":\#(presence.online),"onlineSince":"#
        json += presence.onlineSince.map(String.init) ?? "null"
        json += #","connections":["#
        for (index, record) in presence.connections.enumerated() {
            if index > 0 { json += "," }
            appendConnection(record, to: &json)
        }
        json += "]}"
        return Array(json.utf8)
    }

    private static func appendConnection(_ record: ConnectionRecord, to json: inout String) {
        json += #"{"connectionId":"#
        JSONBody.appendString(record.connectionID, to: &json)
        json += #","node":"#
        JSONBody.appendString(record.nodeID, to: &json)
        json += #","user":"#
        appendOptional(record.user, to: &json)
        json += #","tenant":"#
        JSONBody.appendString(record.tenant, to: &json)
        json += #","session":"#
        appendOptional(record.session, to: &json)
        json += #","clientId":"#
        appendOptional(record.clientID, to: &json)
        json += #","channels":"#
        JSONBody.appendStrings(record.channels, to: &json)
        json += #","connectedAt":\#(record.connectedAt)}"#
    }

    private static func appendOptional(_ text: String?, to json: inout String) {
        if let text { JSONBody.appendString(text, to: &json) } else { json += "null" }
    }

    private static func appendCursor(_ next: String?, to json: inout String) {
        json += #""cursor":"#
        if let next { JSONBody.appendString(Base64URL.encode(next.utf8), to: &json) } else { json += "null" }
    }
}
