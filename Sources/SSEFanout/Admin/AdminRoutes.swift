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
