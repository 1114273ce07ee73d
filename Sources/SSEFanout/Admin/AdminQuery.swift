import Foundation

/// The query of `GET /admin/api/channels`: `tenant`, `prefix` (names starting with it), `cursor` (the
/// opaque one a previous page returned) and `limit` (1…`PresenceRoutes.maxLimit`), each checked.
struct AdminQuery: Equatable {
    var tenant = ""
    var prefix = ""
    var cursor: String?
    var limit = PresenceRoutes.defaultLimit

    init(uri: String) throws(PublicationError) {
        guard let components = URLComponents(string: uri) else {
            throw PublicationError("invalid_query", "the request URI could not be parsed")
        }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "tenant" where !value.isEmpty:
                try Identifier.validateTenant("tenant", value)
                tenant = value
            case "prefix" where !value.isEmpty:
                try Identifier.validate("prefix", value)
                prefix = value
            case "cursor" where !value.isEmpty:
                guard value.utf8.count <= PresenceQuery.maxCursorLength, let bytes = Base64URL.decode(value.utf8),
                    let text = String(validating: bytes, as: UTF8.self), !text.isEmpty
                else {
                    throw PublicationError("invalid_cursor", "'cursor' must be a cursor a previous page returned")
                }
                cursor = text
            case "limit":
                guard let limit = Int(value), (1...PresenceRoutes.maxLimit).contains(limit) else {
                    throw PublicationError("invalid_limit", "'limit' must be a whole number from 1 to \(PresenceRoutes.maxLimit)")
                }
                self.limit = limit
            default: continue
            }
        }
    }
}
