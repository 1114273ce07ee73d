import Foundation
import NIOCore
import NIOHTTP1

/// Where the subscriber streams go, and how each stream's request looks: the same URL for all, or with
/// `user=<prefix><index>` added so that each stream is its own user (for unicast), or with a token minted
/// for that stream (`StreamTokens`), which then says who the stream is: a node that checks tokens refuses
/// `user` in the query.
struct StreamEndpoint: Sendable {
    let http: HTTPEndpoint
    let userPrefix: String?
    /// With `userCount`, stream `index` is user `<prefix><index mod userCount>`.
    let userCount: Int?
    let tokens: StreamTokens?

    init(url: String, userPrefix: String? = nil, userCount: Int? = nil, tokens: StreamTokens? = nil) throws {
        http = try HTTPEndpoint(url: url)
        self.userPrefix = userPrefix
        self.userCount = userCount
        self.tokens = tokens
    }

    /// The same endpoint, with each connection sending its token from `tokens`.
    func with(_ tokens: StreamTokens?) -> StreamEndpoint {
        StreamEndpoint(http: http, userPrefix: userPrefix, userCount: userCount, tokens: tokens)
    }

    private init(http: HTTPEndpoint, userPrefix: String?, userCount: Int?, tokens: StreamTokens?) {
        self.http = http
        self.userPrefix = userPrefix
        self.userCount = userCount
        self.tokens = tokens
    }

    var address: SocketAddress { http.address }

    /// The channels the URL subscribes to (its `channel` query parameters): a token must grant them.
    var channels: [String] {
        (URLComponents(string: http.url)?.queryItems ?? []).compactMap { $0.name == "channel" ? $0.value : nil }
    }

    /// The user id of stream `index`, when streams have their own.
    func user(index: Int) -> String? {
        userPrefix.map { "\($0)\(userCount.map { index % $0 } ?? index)" }
    }

    /// The request of stream `index`, which is also its user's index.
    func request(index: Int) -> HTTPRequestHead {
        request(connection: index, user: index)
    }

    /// The request of connection `connection`: with tokens, it carries that connection's token (whose
    /// subject is its user); without, `user=<prefix><user>` when streams have users.
    func request(connection: Int, user: Int?) -> HTTPRequestHead {
        var target = http.target
        var headers = HTTPHeaders([
            ("Host", http.hostHeader),
            ("Accept", "text/event-stream"),
            ("Cache-Control", "no-cache"),
        ])
        if let tokens {
            let token = tokens.token(connection: connection)
            switch tokens.placement {
            case .header: headers.add(name: "Authorization", value: "Bearer \(token)")
            case .query: target = http.target(adding: "token", token)
            }
        } else if let name = user.flatMap({ self.user(index: $0) }) {
            target = http.target(adding: "user", name)
        }
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
    }
}
