import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1

/// Where the subscriber streams go: an `http://` URL to an IP address (no resolver on the hot path).
struct StreamEndpoint: Sendable {
    let address: SocketAddress
    let request: HTTPRequestHead

    init(url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "http",
            let host = components.host, !host.isEmpty
        else { throw ValidationError("not an http:// URL: \(url)") }
        let port = components.port ?? 80
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw ValidationError("the host must be an IP address, such as 127.0.0.1: \(url)")
        }
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }
        let headers = HTTPHeaders([
            ("Host", port == 80 ? host : "\(host):\(port)"),
            ("Accept", "text/event-stream"),
            ("Cache-Control", "no-cache"),
        ])
        request = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
    }
}
