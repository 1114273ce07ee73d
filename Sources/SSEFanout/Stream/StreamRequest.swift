import Foundation

/// A parsed `GET /events` request: who is connecting and what they subscribe to.
struct StreamRequest: Sendable, Equatable {
    /// Who is connecting: from the token when authentication is on (the query may not say), else the
    /// `user` query parameter.
    var user: String?
    /// The tenant ("" for the default one) and session: from the token, or with authentication off
    /// the `tenant` and `session` query parameters.
    var tenant = ""
    var session: String?
    /// When the stream's credential expires (ms since 1970): the stream is closed then.
    var expiresAt: Int64?
    var channels: [String]
    var clientID: String?
    /// Where to resume: the `Last-Event-ID` header, or the `lastEventId` query parameter for
    /// clients that cannot set headers.
    var lastEventID: String?

    static let maxChannels = 64
    /// The query said who is connecting (`user`, `tenant` or `session`): refused when authentication is on.
    private(set) var declaresIdentity = false

    /// The addresses the stream answers to.
    var addresses: [Address] {
        ConnectionRecord.addresses(user: user, clientID: clientID, session: session, tenant: tenant, channels: channels)
    }

    /// Parses the query of `uri`; throws a client error naming the offending parameter.
    init(uri: String, lastEventIDHeader: String? = nil) throws(PublicationError) {
        guard let components = URLComponents(string: uri) else {
            throw PublicationError("invalid_query", "the request URI could not be parsed")
        }
        var user: String?
        var tenant = ""
        var session: String?
        var channels: [String] = []
        var clientID: String?
        var lastEventID = lastEventIDHeader
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "user": user = try Self.identifier("user", value)
            case "tenant":
                try Identifier.validateTenant("tenant", value)
                tenant = value
            case "session": session = try Self.identifier("session", value)
            case "channel": channels.append(try Self.identifier("channel", value))
            case "clientId": clientID = try Self.identifier("clientId", value)
            case "lastEventId" where lastEventID == nil: lastEventID = value
            default: continue
            }
        }
        guard channels.count <= Self.maxChannels else {
            throw PublicationError("too_many_channels", "at most \(Self.maxChannels) 'channel' parameters per stream")
        }
        // The same channel twice is one subscription.
        var seen = Set<String>()
        self.channels = channels.filter { seen.insert($0).inserted }
        self.declaresIdentity = user != nil || !tenant.isEmpty || session != nil
        self.user = user
        self.tenant = tenant
        self.session = session
        self.clientID = clientID
        self.lastEventID = lastEventID.flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func identifier(_ name: String, _ value: String) throws(PublicationError) -> String {
        try Identifier.validate(name, value)
        return value
    }
}
