import Foundation
import NIOHTTP1

/// A `POST /send/<path>` or `/upload/<path>` whose head was checked: its path, its sender (from the
/// token, exactly as `GET /events` authenticates), its idempotency key, and how large its body may be.
/// Built before the body is read, so nothing is held for a caller who would be refused.
struct SendRequest: Sendable {
    /// Longest `Idempotency-Key`, in bytes.
    static let maxIdempotencyKeyLength = 128

    let kind: SendKind
    let path: SendPath
    let query: SendQuery
    var identity: SendIdentity
    /// `X-SSE-Connection` as the caller sent it; the sender's connection only once the registry says
    /// so (`UpstreamSender`), otherwise left out.
    let claimedConnectionID: String?
    /// The caller's `Idempotency-Key`; nil: the send is not deduplicated.
    let idempotencyKey: String?
    /// The `Content-Type` as sent (an upload's carries its boundary), passed on to the backend.
    let contentType: String
    /// An upload's multipart boundary.
    let boundary: String?
    /// The most body bytes this request may carry.
    let bodyLimit: Int
    /// The body's `Content-Length`; nil for a chunked body.
    let declaredLength: Int?

    struct Limits: Sendable {
        var maxBodySize: Int
        var maxUploadSize: Int
    }

    /// Checks `head` in the order a caller can fix things: path, credentials, content type, headers, size.
    /// `origins` decides whether a token in the cookie is accepted from the page that sent it.
    init(
        head: HTTPRequestHead, kind: SendKind, path rawPath: Substring, authenticator: Authenticator, origins: CORSPolicy? = nil,
        limits: Limits
    ) throws(SendRefusal) {
        guard let path = SendPath(rawPath) else {
            throw SendRefusal(
                .badRequest, "invalid_path",
                "the path after /\(kind.rawValue)/ must be 1 to \(SendPath.maxLength) bytes of A-Z a-z 0-9 _ ~ / -, without empty segments")
        }
        self.kind = kind
        self.path = path
        self.query = SendQuery(uri: head.uri)
        self.identity = try Self.sender(head, query, authenticator, origins)

        let (type, boundary) = try Self.contentType(head, kind)
        self.contentType = head.headers.first(name: "content-type") ?? type
        self.boundary = boundary

        if let key = head.headers.first(name: "idempotency-key") {
            guard !key.isEmpty, key.utf8.count <= Self.maxIdempotencyKeyLength, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw SendRefusal(
                    .badRequest, "invalid_idempotency_key",
                    "'Idempotency-Key' must be 1 to \(Self.maxIdempotencyKeyLength) visible ASCII characters")
            }
            self.idempotencyKey = key
        } else {
            self.idempotencyKey = nil
        }
        if let clientID = head.headers.first(name: "x-sse-client") {
            do { try Identifier.validate("clientId", clientID) } catch { throw SendRefusal(error) }
            identity.clientID = clientID
        }
        // Unchecked yet; a malformed one can name no connection, so it is simply left out.
        self.claimedConnectionID = head.headers.first(name: "x-sse-connection").flatMap { (try? Identifier.validate("connectionId", $0)) == nil ? nil : $0 }

        self.bodyLimit = kind == .upload ? limits.maxUploadSize : limits.maxBodySize
        self.declaredLength = head.headers.first(name: "content-length").flatMap(Int.init)
        if let declaredLength, declaredLength > bodyLimit {
            throw Self.tooLarge(bodyLimit)
        }
        // Not JSON, and a backend would have all of it with the head.
        if kind == .send, declaredLength == 0 { throw Self.notJSON }
    }

    static func tooLarge(_ limit: Int) -> SendRefusal {
        SendRefusal(.payloadTooLarge, "body_too_large", "the body exceeds \(limit) bytes")
    }

    static let notJSON = SendRefusal(.badRequest, "invalid_json", "a send's body must be JSON")

    /// With authentication on, the token alone says who is sending (as for streams, the query may not);
    /// with it off, the `user`, `tenant` and `session` query parameters do.
    private static func sender(
        _ head: HTTPRequestHead, _ query: SendQuery, _ authenticator: Authenticator, _ origins: CORSPolicy?
    ) throws(SendRefusal) -> SendIdentity {
        let claims: VerifiedClaims?
        do { claims = try authenticator.subscriber(headers: head.headers, uri: head.uri, origins: origins) } catch { throw SendRefusal(error) }
        if let claims {
            guard query.identity.isEmpty else {
                throw SendRefusal(
                    .badRequest, "identity_from_token",
                    "with authentication on, the user, tenant and session come from the token: leave 'user', 'tenant' and 'session' out of the query")
            }
            return SendIdentity(user: claims.user, tenant: claims.tenant ?? "", session: claims.sessionID)
        }
        var identity = SendIdentity()
        do {
            if let user = query.identity["user"] {
                try Identifier.validate("user", user)
                identity.user = user
            }
            if let tenant = query.identity["tenant"] {
                try Identifier.validateTenant("tenant", tenant)
                identity.tenant = tenant
            }
            if let session = query.identity["session"] {
                try Identifier.validate("session", session)
                identity.session = session
            }
        } catch {
            throw SendRefusal(error)
        }
        return identity
    }

    /// A send is JSON; an upload is a multipart form with its boundary. Anything else is 415, so a page on
    /// another site cannot send a form or `text/plain` here without a preflight.
    private static func contentType(_ head: HTTPRequestHead, _ kind: SendKind) throws(SendRefusal) -> (String, String?) {
        let value = head.headers.first(name: "content-type") ?? ""
        let parts = value.split(separator: ";")
        let type = parts.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch kind {
        case .send:
            guard type == "application/json" else {
                throw SendRefusal(.unsupportedMediaType, "unsupported_media_type", "a send's body must be sent as Content-Type: application/json")
            }
            return (type, nil)
        case .upload:
            guard type == "multipart/form-data" else {
                throw SendRefusal(.unsupportedMediaType, "unsupported_media_type", "an upload must be sent as Content-Type: multipart/form-data")
            }
            var boundary: String?
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
                var text = pair[1].trimmingCharacters(in: .whitespaces)
                if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
                boundary = text
            }
            guard let boundary, (1...70).contains(boundary.utf8.count), boundary.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw SendRefusal(.badRequest, "invalid_multipart", "an upload's Content-Type must carry a boundary of 1 to 70 characters")
            }
            return (type, boundary)
        }
    }
}
