import NIOHTTP1

/// Why a send or upload was not taken: an HTTP status and a JSON body `{"error": code, "message": message}`.
/// Messages name what is wrong, never the token, the key or the body.
struct SendRefusal: Error, Sendable, Equatable {
    var status: HTTPResponseStatus
    var code: String
    var message: String
    /// Seconds a client should wait before trying again (`Retry-After`), for 503s.
    var retryAfter: Int?

    init(_ status: HTTPResponseStatus, _ code: String, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    init(_ error: AuthError) {
        self.init(error.status, error.code, error.message)
    }

    init(_ error: PublicationError) {
        self.init(.badRequest, error.code, error.message)
    }

    /// The node holds as many send and upload bodies as it may (`BodyBudget`).
    static let busy = SendRefusal(
        .serviceUnavailable, "busy", "this node holds as many send and upload bodies as it may; try again shortly", retryAfter: 1)
}
