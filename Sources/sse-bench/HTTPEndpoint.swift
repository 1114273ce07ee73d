import ArgumentParser
import Foundation
import NIOCore

/// An `http://` URL to an IP address, parsed once: the address to connect to (no resolver on the hot
/// path), the `Host` header and the request target.
struct HTTPEndpoint: Sendable {
    let address: SocketAddress
    let hostHeader: String
    /// Path and query as sent in the request line.
    let target: String
    let url: String

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
        hostHeader = port == 80 ? host : "\(host):\(port)"
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }
        self.target = target
        self.url = url
    }

    /// The target with `name=value` added to its query (`value` is used as is: plain ASCII ids only).
    func target(adding name: String, _ value: String) -> String {
        target + (target.contains("?") ? "&" : "?") + name + "=" + value
    }
}
