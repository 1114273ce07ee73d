/// Splits an AMQP URL into its parts; errors name the part that is wrong and never show the password.
struct AMQPURLParser {
    struct Parts {
        var user: String?
        var password: String?
        var host: String?
        var port: Int?
        var vhost: String?
        var heartbeat: Int?
        var connectTimeout: Duration?
    }

    let url: String

    func parse() throws -> Parts {
        var parts = Parts()
        let schemeSeparator = "://"
        guard let schemeEnd = url.firstRange(of: schemeSeparator) else {
            throw invalid("expected amqp://user:password@host:port/vhost")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "amqp" else {
            if scheme == "amqps" { throw invalid("amqps (TLS) is not supported") }
            throw invalid("scheme must be amqp, not '\(scheme)'")
        }

        var rest = url[schemeEnd.upperBound...]
        if let fragmentStart = rest.firstIndex(of: "#") {
            rest = rest[..<fragmentStart]
        }
        if let queryStart = rest.firstIndex(of: "?") {
            try parseQuery(rest[rest.index(after: queryStart)...], into: &parts)
            rest = rest[..<queryStart]
        }

        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        try parseAuthority(rest[..<pathStart], into: &parts)
        parts.vhost = try parseVhost(path: rest[pathStart...])
        return parts
    }

    private func parseAuthority(_ authority: Substring, into parts: inout Parts) throws {
        var hostAndPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostAndPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                parts.user = try decode(userInfo[..<colon], naming: "user")
                parts.password = try decode(userInfo[userInfo.index(after: colon)...], naming: "password")
            } else {
                parts.user = try decode(userInfo, naming: "user")
            }
        }

        let host: Substring
        let portText: Substring?
        if hostAndPort.hasPrefix("[") {
            // An IPv6 literal, e.g. [::1]:5672.
            guard let close = hostAndPort.firstIndex(of: "]") else {
                throw invalid("IPv6 host is missing its closing ']'")
            }
            host = hostAndPort[hostAndPort.index(after: hostAndPort.startIndex)..<close]
            let afterHost = hostAndPort[hostAndPort.index(after: close)...]
            if afterHost.isEmpty {
                portText = nil
            } else if afterHost.hasPrefix(":") {
                portText = afterHost.dropFirst()
            } else {
                throw invalid("unexpected '\(afterHost)' after the IPv6 host")
            }
        } else if let colon = hostAndPort.firstIndex(of: ":") {
            host = hostAndPort[..<colon]
            portText = hostAndPort[hostAndPort.index(after: colon)...]
        } else {
            host = hostAndPort
            portText = nil
        }

        if !host.isEmpty {
            parts.host = try decode(host, naming: "host")
        }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw invalid("port '\(portText)' is not a number from 1 to 65535")
            }
            parts.port = port
        }
    }

    private func parseVhost(path: Substring) throws -> String {
        let encoded = path.dropFirst()  // the leading "/"
        if encoded.isEmpty { return "/" }
        guard !encoded.contains("/") else {
            throw invalid("vhost '\(encoded)' contains '/'; write it as %2F")
        }
        return try decode(encoded, naming: "vhost")
    }

    private func parseQuery(_ query: Substring, into parts: inout Parts) throws {
        for pair in query.split(separator: "&") {
            let keyAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = keyAndValue[0]
            let value = keyAndValue.count > 1 ? keyAndValue[1] : ""
            switch key {
            case "heartbeat":
                guard let seconds = Int(value), (0...65535).contains(seconds) else {
                    throw invalid("heartbeat '\(value)' is not a number of seconds from 0 to 65535")
                }
                parts.heartbeat = seconds
            case "connection_timeout":
                guard let milliseconds = Int(value), milliseconds > 0 else {
                    throw invalid("connection_timeout '\(value)' is not a positive number of milliseconds")
                }
                parts.connectTimeout = .milliseconds(milliseconds)
            default:
                throw invalid("unknown query parameter '\(key)' (supported: heartbeat, connection_timeout)")
            }
        }
    }

    /// Percent-decodes one URL component, which must decode to valid UTF-8.
    private func decode(_ component: Substring, naming name: String) throws -> String {
        var bytes: [UInt8] = []
        var index = component.utf8.startIndex
        let utf8 = component.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let high = utf8.index(after: index)
                guard high != utf8.endIndex, utf8.index(after: high) != utf8.endIndex,
                    let highValue = hexValue(utf8[high]),
                    let lowValue = hexValue(utf8[utf8.index(after: high)])
                else {
                    throw invalid("\(name) has a '%' that is not followed by two hex digits")
                }
                bytes.append(highValue << 4 | lowValue)
                index = utf8.index(high, offsetBy: 2)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw invalid("\(name) does not decode to valid UTF-8")
        }
        return decoded
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private func invalid(_ reason: String) -> AMQPError {
        .invalidURL("'\(redactedURL)': \(reason)")
    }

    /// The URL with any password replaced, so errors can be logged.
    private var redactedURL: String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@"),
            let colon = afterScheme[..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
