import Foundation
import NIOHTTP1

/// What a presence request asks, read from its URI (path and query): which listing, and its
/// parameters, each checked and bounded. `PresenceRoutes` answers it. The whole URI is bounded by the
/// request head's limit (`http.maxHeaderSize`); every value in it by its own rule, the cursor too.
struct PresenceQuery: Equatable {
    enum Listing: Equatable {
        /// `/presence/users`: users online in a tenant, or in a channel.
        case users
        /// `/presence/users/<id>`: one user (percent-decoded).
        case user(String)
        /// `/presence/connections`.
        case connections
    }

    /// A request refused: its status (400, 403 or 404) and why.
    struct Refusal: Error, Equatable {
        var status: HTTPResponseStatus
        var error: PublicationError
    }

    var listing: Listing
    var tenant = ""
    var user: String?
    var session: String?
    var channel: String?
    /// The last id of the previous page, decoded from the opaque `cursor`.
    var cursor: String?
    var limit = PresenceRoutes.defaultLimit

    /// Longest `cursor`: the base64url of an id of at most `Identifier.maxLength` bytes, padded or not.
    static let maxCursorLength = (Identifier.maxLength + 2) / 3 * 4

    /// Reads `uri`. A caller confined to a tenant (`confinedTenant`) asks about that tenant only.
    /// Unknown parameters are ignored; bad ones refused with 400.
    init(uri: String, confinedTenant: String? = nil) throws(Refusal) {
        let path = String(uri.prefix { $0 != "?" })
        guard let components = URLComponents(string: uri) else {
            throw Refusal(status: .badRequest, error: PublicationError("invalid_query", "the request URI could not be parsed"))
        }
        listing = .users
        do {
            try read(components.queryItems ?? [], confinedTenant: confinedTenant)
        } catch {
            throw Refusal(status: error.code == "tenant_not_allowed" ? .forbidden : .badRequest, error: error)
        }
        switch path {
        case "/presence/users":
            listing = .users
        case "/presence/connections":
            listing = .connections
        default:
            guard path.hasPrefix("/presence/users/"), let user = Self.segment(path.dropFirst("/presence/users/".count)) else {
                throw Refusal(status: .notFound, error: PublicationError("not_found", "no route for \(path)"))
            }
            do {
                try Identifier.validate("user", user)
            } catch {
                throw Refusal(status: .badRequest, error: error)
            }
            listing = .user(user)
        }
    }

    private mutating func read(_ items: [URLQueryItem], confinedTenant: String?) throws(PublicationError) {
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
                guard value.utf8.count <= Self.maxCursorLength, let bytes = Base64URL.decode(value.utf8), bytes.count <= Identifier.maxLength,
                    let text = String(validating: bytes, as: UTF8.self), !text.isEmpty
                else {
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

    /// One percent-decoded path segment; nil when empty or holding a `/`.
    private static func segment(_ text: Substring) -> String? {
        guard !text.isEmpty, !text.contains("/") else { return nil }
        return text.removingPercentEncoding
    }
}
