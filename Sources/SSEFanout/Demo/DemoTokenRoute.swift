import Foundation
import Logging
import NIOCore

/// `POST /demo/token` (demo mode only; `DemoRoutes` says what it mints and why that is safe).
struct DemoTokenRoute: HTTPRoute {
    let authenticator: Authenticator
    /// Without authentication the page names its user in the query instead: there is nothing to sign.
    let signs: Bool
    /// `auth.maxTokenLifetime`: a demo token lives no longer than any other.
    let maxTokenLifetime: Duration
    let logger: Logger

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard request.requireJSON(responder) else { return }
        let asked: DemoRoutes.Request
        do {
            asked = try DemoRoutes.Request(request.body)
        } catch {
            logger.info("refused demo token", metadata: ["error": "\(error.code)"])
            responder.respond(.badRequest, JSONBody.error(error.code, error.message))
            return
        }
        let lifetime = min(DemoRoutes.lifetime, maxTokenLifetime)
        let (authenticator, signs, logger) = (self.authenticator, self.signs, self.logger)
        request.eventLoop.makeFutureWithTask { () async -> Result<String?, AuthError> in
            guard signs else { return .success(nil) }
            do throws(AuthError) {
                return .success(
                    try await authenticator.mint(
                        user: asked.user, tenant: asked.tenant, channels: asked.channels, publish: DemoRoutes.publishPatterns, ttl: lifetime,
                        demo: true))
            } catch {
                return .failure(error)
            }
        }.whenSuccess { result in
            switch result {
            case .success(let token):
                logger.info("minted a demo token", metadata: ["user": "\(asked.user)", "tenant": "\(asked.tenant)"])
                let expiresAt = Int64((Date().timeIntervalSince1970 + Double(lifetime.components.seconds)) * 1000)
                responder.respond(
                    .ok,
                    JSONBody.encode([
                        "token": token ?? NSNull(), "user": asked.user, "tenant": asked.tenant, "channels": asked.channels,
                        "publish": DemoRoutes.publishPatterns, "expiresAt": token == nil ? NSNull() : expiresAt,
                    ] as [String: Any]),
                    headers: [("Cache-Control", "no-store")])
            case .failure(let error):
                logger.warning("demo token refused", metadata: ["error": "\(error.code)"])
                responder.respond(error.status, JSONBody.error(error.code, error.message))
            }
        }
    }
}
