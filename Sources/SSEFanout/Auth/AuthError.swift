import NIOHTTP1

/// Why a request's credentials were refused. Each maps to an HTTP answer with a JSON body
/// `{"error": code, "message": message}`: 401 when the caller is not authenticated (no token, a bad
/// one), 403 when it is but may not do what it asked.
///
/// Messages name what is wrong, never the token or the key that was presented: they end up in logs.
public struct AuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable machine-readable code, e.g. `token_expired`.
    public var code: String
    /// What is wrong, in words a client can act on.
    public var message: String
    public var status: HTTPResponseStatus

    public init(_ code: String, _ message: String, status: HTTPResponseStatus = .unauthorized) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { "\(code): \(message)" }

    static func forbidden(_ code: String, _ message: String) -> AuthError {
        AuthError(code, message, status: .forbidden)
    }

    static let missingToken = AuthError(
        "missing_token", "a token is required: an 'Authorization: Bearer' header, a cookie or the 'token' query parameter"
    )
    static let missingCredentials = AuthError(
        "missing_credentials", "publishing needs an 'X-API-Key' header or an 'Authorization: Bearer' header"
    )
    static let invalidAPIKey = AuthError("invalid_api_key", "the API key is not one this node accepts")
    static let malformedToken = AuthError("malformed_token", "the token is not a well-formed JWT")
    static let invalidSignature = AuthError("invalid_signature", "the token's signature does not verify")
    static let publishNotAllowed = AuthError.forbidden("publish_not_allowed", "the token has no 'publish' claim: it may not publish")

    static func invalidClaim(_ name: String, _ rule: String) -> AuthError {
        AuthError("invalid_claim", "the '\(name)' claim \(rule)")
    }
}
