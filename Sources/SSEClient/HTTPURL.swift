/// A parsed `http://host[:port][/path][?query]` URL; the only form the client speaks (no TLS, no userinfo).
/// IPv6 hosts are written in brackets: `http://[::1]:8080/events`. A `#fragment` is dropped; spaces, controls
/// and non-ASCII characters in the path and query are percent-encoded.
struct HTTPURL: Sendable, Equatable {
    /// Host name or IP address, without brackets.
    var host: String
    var port: Int
    /// Path and query as sent in the request line; at least "/".
    var target: String

    /// The `Host` header value: the authority as written, with the port only when it is not 80.
    var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? bracketed : "\(bracketed):\(port)"
    }

    init(host: String, port: Int, target: String) {
        self.host = host
        self.port = port
        self.target = target
    }

    init(parsing string: String) throws(SSEClientError) {
        let scheme = "http://"
        guard string.utf8.count > scheme.utf8.count,
            string.prefix(scheme.count).lowercased() == scheme
        else { throw .invalidURL(string) }
        var rest = Substring(string.dropFirst(scheme.count))
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }

        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let pathAndQuery = rest[authorityEnd...]

        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(string) }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let afterBracket = authority[authority.index(after: close)...]
            if afterBracket.isEmpty {
                portPart = nil
            } else {
                guard afterBracket.hasPrefix(":") else { throw .invalidURL(string) }
                portPart = afterBracket.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
            portPart = nil
        }
        guard !hostPart.isEmpty, !hostPart.contains("@"), Self.isVisibleASCII(hostPart) else {
            throw .invalidURL(string)
        }

        var port = 80
        if let portPart {
            guard !portPart.isEmpty, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(portPart), (1...65535).contains(number)
            else { throw .invalidURL(string) }
            port = number
        }

        let target: Substring
        if pathAndQuery.isEmpty {
            target = "/"
        } else if pathAndQuery.hasPrefix("?") {
            target = "/" + pathAndQuery
        } else {
            target = pathAndQuery
        }
        self.init(host: String(hostPart), port: port, target: Self.percentEncodingInvisible(target))
    }

    /// Percent-encodes spaces, controls and non-ASCII bytes, which would otherwise corrupt the request line.
    private static func percentEncodingInvisible(_ text: Substring) -> String {
        guard !isVisibleASCII(text) else { return String(text) }
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        for byte in text.utf8 {
            if byte > 0x20 && byte < 0x7F {
                encoded.append(byte)
            } else {
                encoded += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    private static func isVisibleASCII(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
