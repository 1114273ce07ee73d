import NIOCore
import NIOHTTP1

/// Where the subscriber streams go, and how each stream's request looks: the same URL for all, or with
/// `user=<prefix><index>` added so that each stream is its own user (for unicast).
struct StreamEndpoint: Sendable {
    let http: HTTPEndpoint
    let userPrefix: String?

    init(url: String, userPrefix: String? = nil) throws {
        http = try HTTPEndpoint(url: url)
        self.userPrefix = userPrefix
    }

    var address: SocketAddress { http.address }

    /// The user id of stream `index`, when streams have their own.
    func user(index: Int) -> String? {
        userPrefix.map { "\($0)\(index)" }
    }

    func request(index: Int) -> HTTPRequestHead {
        let target = user(index: index).map { http.target(adding: "user", $0) } ?? http.target
        let headers = HTTPHeaders([
            ("Host", http.hostHeader),
            ("Accept", "text/event-stream"),
            ("Cache-Control", "no-cache"),
        ])
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
    }
}
