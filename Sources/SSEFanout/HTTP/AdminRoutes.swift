import Foundation
import NIOCore
import NIOHTTP1
import RabbitMQ

/// The admin page's data (README, "Admin page"), for an API key only (node-wide figures, like `/metrics`):
///
/// - `GET /admin/api/nodes` → `{"nodes": [{"nodeId", "bootId", "host", "port", "startedAt", "leaseExpiresAt", "connections",
///   "totals": {"published", "delivered", "latencyMicroseconds", "latencyCount", "at"} or null}]}`: totals as of the
///   node's last lease renewal, for the cluster-wide charts
/// - `GET /admin/api/queues` → `{"queues": [{"queue", "messages", "consumers"}]}` (`null` counts: no such queue)
/// - `GET /admin/api/channels?tenant=&prefix=&cursor=&limit=` → `{"channels": [{"channel", "users"}], "cursor"}`
///
/// Users and connections come from the presence routes, kicks from `POST /disconnect`.
enum AdminRoutes {
    /// Nodes listed at most: the registry's lease set holds one entry per node id.
    static let maxNodes = 1000

    static func handles(_ path: String) -> Bool { path.hasPrefix("/admin/api/") }

    /// The queues worth watching: the shared ones, the demo's uploads, and every listed node's own.
    static func queues(nodes: [NodeStatus], demo: Bool) -> [String] {
        var queues = [BrokerTopology.ingressQueue, BrokerTopology.deadLetterQueue, BrokerTopology.poisonQueue]
        if demo { queues.append(BrokerTopology.demoUploadsQueue) }
        return queues + nodes.map { BrokerTopology.nodeQueue($0.nodeID) }
    }

    static func nodesBody(_ nodes: [NodeStatus]) -> [UInt8] {
        JSONBody.encode([
            "nodes": nodes.map { node -> [String: Any] in
                [
                    "nodeId": node.nodeID, "bootId": node.record?.bootID ?? NSNull(), "host": node.record?.host ?? NSNull(),
                    "port": node.record?.port ?? NSNull(), "startedAt": node.record?.startedAt ?? NSNull(),
                    "leaseExpiresAt": node.leaseExpiresAt, "connections": node.connections,
                    "totals": node.record?.totals.map { totals -> [String: Any] in
                        [
                            "published": totals.published, "delivered": totals.delivered,
                            "latencyMicroseconds": totals.latencyMicroseconds, "latencyCount": totals.latencyCount, "at": totals.at,
                        ]
                    } ?? NSNull(),
                ]
            }
        ])
    }

    static func queuesBody(_ depths: [AMQPQueueDepth]) -> [UInt8] {
        JSONBody.encode([
            "queues": depths.map { depth -> [String: Any] in
                ["queue": depth.queue, "messages": depth.messages ?? NSNull(), "consumers": depth.consumers ?? NSNull()]
            }
        ])
    }

    static func channelsBody(_ page: PresencePage<ChannelSummary>) -> [UInt8] {
        JSONBody.encode([
            "channels": page.items.map { ["channel": $0.channel, "users": $0.users] as [String: Any] },
            "cursor": page.next.map { Base64URL.encode($0.utf8) } ?? NSNull(),
        ])
    }
}

extension HTTPHandler {
    /// `GET /admin/api/...`: answered for an API key (or with authentication off), else 401/403.
    func admin(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        guard let credential = publisher(context, head) else { return }
        guard credential == .unrestricted || credential == .apiKey else {
            logger.info("refused admin request", metadata: ["error": "admin_not_allowed"])
            respond(context, head, .forbidden, JSONBody.error("admin_not_allowed", "the admin routes take an API key"))
            return
        }
        let path = Self.path(of: head.uri)
        let node = self.node
        let answer: @Sendable () async -> (HTTPResponseStatus, [UInt8])
        switch path {
        case "/admin/api/nodes":
            answer = {
                do {
                    return (.ok, AdminRoutes.nodesBody(try await node.registry.nodeStatuses(limit: AdminRoutes.maxNodes)))
                } catch {
                    return (.serviceUnavailable, JSONBody.error("unavailable", "the registry is unavailable: \(error)"))
                }
            }
        case "/admin/api/queues":
            answer = {
                guard let inspector = node.queueInspector else { return (.ok, AdminRoutes.queuesBody([])) }
                do {
                    let nodes = try await node.registry.nodeStatuses(limit: AdminRoutes.maxNodes)
                    let queues = AdminRoutes.queues(nodes: nodes, demo: node.configuration.demo)
                    return (.ok, AdminRoutes.queuesBody(try await inspector.depths(of: queues)))
                } catch {
                    return (.serviceUnavailable, JSONBody.error("unavailable", "queue depths are unavailable: \(error)"))
                }
            }
        case "/admin/api/channels":
            let query: AdminQuery
            do {
                query = try AdminQuery(uri: head.uri)
            } catch {
                logger.info("refused admin request", metadata: ["error": "\(error.code)"])
                respond(context, head, .badRequest, JSONBody.error(error.code, error.message))
                return
            }
            answer = {
                do {
                    let page = try await node.registry.channels(tenant: query.tenant, prefix: query.prefix, cursor: query.cursor, limit: query.limit)
                    return (.ok, AdminRoutes.channelsBody(page))
                } catch {
                    return (.serviceUnavailable, JSONBody.error("unavailable", "the registry is unavailable: \(error)"))
                }
            }
        default:
            respond(context, head, .notFound, JSONBody.error("not_found", "no route for \(path)"))
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask(answer).whenSuccess { status, body in
            let (handler, context) = bound.value
            if status != .ok { handler.logger.warning("admin request failed", metadata: ["path": "\(path)", "status": "\(status.code)"]) }
            handler.respond(context, head, status, body)
        }
    }
}
