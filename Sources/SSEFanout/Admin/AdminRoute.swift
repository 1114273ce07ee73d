import Logging
import NIOCore
import NIOHTTP1
import RabbitMQ

/// `GET /admin/api/...` (`AdminRoutes`): node-wide figures, so for an API key (or with authentication
/// off) only, else 401/403.
struct AdminRoute: HTTPRoute {
    let authenticator: Authenticator
    let registry: any Registry
    /// Nil on a standalone node (no RabbitMQ): no queues to show.
    let queueInspector: AMQPQueueInspector?
    /// Demo mode lists the demo's uploads queue too.
    let demo: Bool
    let logger: Logger

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let credential = request.publisher(authenticator, responder, logger: logger) else { return }
        guard credential == .unrestricted || credential == .apiKey else {
            logger.info("refused admin request", metadata: ["error": "admin_not_allowed"])
            responder.respond(.forbidden, JSONBody.error("admin_not_allowed", "the admin routes take an API key"))
            return
        }
        let (registry, inspector, demo) = (self.registry, queueInspector, self.demo)
        let answer: @Sendable () async -> (HTTPResponseStatus, [UInt8])
        switch request.path {
        case "/admin/api/nodes":
            answer = {
                do {
                    return (.ok, AdminRoutes.nodesBody(try await registry.nodeStatuses(limit: AdminRoutes.maxNodes)))
                } catch {
                    return (.serviceUnavailable, JSONBody.error("unavailable", "the registry is unavailable: \(error)"))
                }
            }
        case "/admin/api/queues":
            answer = {
                guard let inspector else { return (.ok, AdminRoutes.queuesBody([])) }
                do {
                    let nodes = try await registry.nodeStatuses(limit: AdminRoutes.maxNodes)
                    let queues = AdminRoutes.queues(nodes: nodes, demo: demo)
                    return (.ok, AdminRoutes.queuesBody(try await inspector.depths(of: queues)))
                } catch {
                    return (.serviceUnavailable, JSONBody.error("unavailable", "queue depths are unavailable: \(error)"))
                }
            }
        case "/admin/api/channels":
            let query: AdminQuery
            do {
                query = try AdminQuery(uri: request.head.uri)
            } catch {
                logger.info("refused admin request", metadata: ["error": "\(error.code)"])
                responder.respond(.badRequest, JSONBody.error(error.code, error.message))
                return
            }
            answer = {
                do {
                    let page = try await registry.channels(tenant: query.tenant, prefix: query.prefix, cursor: query.cursor, limit: query.limit)
                    return (.ok, AdminRoutes.channelsBody(page))
                } catch {
                    return (.serviceUnavailable, JSONBody.error("unavailable", "the registry is unavailable: \(error)"))
                }
            }
        default:
            responder.respond(.notFound, JSONBody.error("not_found", "no route for \(request.path)"))
            return
        }
        let logger = self.logger
        let path = request.path
        request.eventLoop.makeFutureWithTask(answer).whenSuccess { status, body in
            if status != .ok { logger.warning("admin request failed", metadata: ["path": "\(path)", "status": "\(status.code)"]) }
            responder.respond(status, body)
        }
    }
}
