import Foundation
import NIOCore
import NIOHTTP1

/// `POST /demo/token` (demo mode only; README, "Demo"): mints a short-lived token for whoever asks, so
/// the demo page can pick any user. The token is confined to a demo tenant (`demo`, or one whose name
/// starts with `demo-`), may subscribe to `demo-*` channels, and may publish to `channel:demo-*` and
/// `user:*` there, which also lets the page read its tenant's presence. It carries `"demo": true`, which
/// nodes without demo mode refuse, so a demo node cannot mint a way into anyone's real tenant. It is
/// never logged.
enum DemoRoutes {
    /// The demo page's tenant.
    static let tenant = "demo"
    static let channelPrefix = "demo-"
    static let lifetime: Duration = .seconds(3600)
    static let publishPatterns = ["channel:\(channelPrefix)*", "user:*"]

    /// What a page asked for, checked.
    struct Request: Equatable {
        var user: String
        var tenant: String
        var channels: [String]

        init(_ bytes: [UInt8]) throws(PublicationError) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw PublicationError("invalid_json", "the body must be a JSON object")
            }
            guard let user = object["user"] as? String else { throw PublicationError("invalid_user", "'user' is required: a string") }
            try Identifier.validate("user", user)
            self.user = user
            switch object["tenant"] {
            case nil, is NSNull: tenant = DemoRoutes.tenant
            case let tenant as String:
                try Identifier.validateTenant("tenant", tenant)
                guard DemoRoutes.isDemoTenant(tenant) else {
                    throw PublicationError("demo_tenant_only", "demo tokens are minted in tenant '\(DemoRoutes.tenant)' or a tenant starting with '\(DemoRoutes.tenant)-' only")
                }
                self.tenant = tenant
            default: throw PublicationError("invalid_tenant", "'tenant' must be a string")
            }
            switch object["channels"] {
            case nil, is NSNull: channels = ["\(DemoRoutes.channelPrefix)*"]
            case let channels as [String] where (1...16).contains(channels.count):
                for channel in channels where !channel.hasPrefix(DemoRoutes.channelPrefix) || channel.utf8.count > 128 {
                    throw PublicationError("invalid_channels", "demo channels start with '\(DemoRoutes.channelPrefix)' (at most 128 bytes): '\(channel)' does not")
                }
                self.channels = channels
            default: throw PublicationError("invalid_channels", "'channels' must be 1 to 16 channel names starting with '\(DemoRoutes.channelPrefix)'")
            }
        }
    }
}

extension DemoRoutes {
    /// `demo`, or `demo-<anything>`: the tenants a demo token may be confined to.
    static func isDemoTenant(_ tenant: String) -> Bool {
        tenant == Self.tenant || tenant.hasPrefix(Self.tenant + "-")
    }
}
