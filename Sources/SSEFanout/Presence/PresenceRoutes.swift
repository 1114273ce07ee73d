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
/// it: a credential confined to a tenant may only ask about that tenant, and a token only about the
/// targets its `publish` patterns reach (`permits`); else 403 `target_not_allowed`.
public enum PresenceRoutes {
    public static let defaultLimit = 100
    public static let maxLimit = 1000

    /// Whether `path` (without its query) belongs to these routes.
    public static func handles(_ path: String) -> Bool {
        path == "/presence" || path.hasPrefix("/presence/")
    }

    /// Answers a request for `uri` (path and query, as in the request line) made with `credential`.
    /// A store's own error is told only to a full-rights credential.
    public static func answer(
        uri: String, presence: any Presence, credential: PublisherCredential = .unrestricted
    ) async -> (status: HTTPResponseStatus, body: [UInt8]) {
        let query: PresenceQuery
        do {
            query = try PresenceQuery(uri: uri, confinedTenant: credential.confinedTenant)
        } catch {
            return (error.status, JSONBody.error(error.error.code, error.error.message))
        }
        guard permits(query, credential) else {
            return (.forbidden, JSONBody.error("target_not_allowed", "the credentials do not allow reading this presence: it names targets they may not publish to"))
        }
        do {
            switch query.listing {
            case .users:
                let page = try await presence.onlineUsers(tenant: query.tenant, channel: query.channel, after: query.cursor, limit: query.limit)
                return (.ok, Self.users(page))
            case .connections:
                let filter = ConnectionFilter(tenant: query.tenant, user: query.user, session: query.session, channel: query.channel)
                return (.ok, Self.connections(try await presence.connections(filter, after: query.cursor, limit: query.limit)))
            case .user(let user):
                return (.ok, Self.user(try await presence.userPresence(user, tenant: query.tenant, limit: query.limit)))
            }
        } catch {
            let detail = credential.isFullRights ? ": \(error)" : " (Redis unreachable)"
            return (.serviceUnavailable, JSONBody.error("unavailable", "presence unavailable\(detail)"))
        }
    }

    /// Presence tells who is reachable: a credential may read what it could publish to. One user, or a
    /// filter on a user, session or channel, needs a pattern reaching that target; a listing of a whole
    /// tenant needs one reaching every user there (`*`, `user:*`, `tenant:NAME`).
    static func permits(_ query: PresenceQuery, _ credential: PublisherCredential) -> Bool {
        let tenant = query.tenant.isEmpty ? nil : query.tenant
        func allows(_ kind: Address.Kind, _ id: String) -> Bool { credential.allows(kind: kind, tenant: tenant, id: id) }
        switch query.listing {
        case .user(let user):
            return allows(.user, user)
        case .users:
            if let channel = query.channel { return allows(.channel, channel) }
        case .connections:
            // The answer lies within each filter given, so one that is allowed is enough.
            let filters: [(Address.Kind, String)] = [(Address.Kind.user, query.user), (.session, query.session), (.channel, query.channel)].compactMap { kind, id in id.map { (kind, $0) } }
            if !filters.isEmpty { return filters.contains { allows($0.0, $0.1) } }
        }
        return credential.allowsEvery(kind: .user, tenant: query.tenant)
    }

    // MARK: - Bodies (written by hand: a page holds up to a thousand items)

    private static func users(_ page: PresencePage<OnlineUser>) -> [UInt8] {
        var json = #"{"users":["#
        for (index, user) in page.items.enumerated() {
            if index > 0 { json += "," }
            json += #"{"user":"#
            JSONString.append(user.user, to: &json)
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
        JSONString.append(presence.user, to: &json)
        json += #","tenant":"#
        JSONString.append(presence.tenant, to: &json)
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
        JSONString.append(record.connectionID, to: &json)
        json += #","node":"#
        JSONString.append(record.nodeID, to: &json)
        ConnectionCodec.appendIdentity(record.addresses, tenant: record.tenant, absent: .null, to: &json)
        json += #","connectedAt":\#(record.connectedAt)}"#
    }

    private static func appendOptional(_ text: String?, to json: inout String) {
        if let text { JSONString.append(text, to: &json) } else { json += "null" }
    }

    private static func appendCursor(_ next: String?, to json: inout String) {
        json += #""cursor":"#
        if let next { JSONString.append(Base64URL.encode(next.utf8), to: &json) } else { json += "null" }
    }
}
