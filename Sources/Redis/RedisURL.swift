/// The parts of a `redis://[[user]:password@]host[:port][/db]` URL.
///
/// Hand-written rather than Foundation's `URLComponents`, so that every mistake gets a message
/// naming the part that is wrong, and the password never appears in one.
struct RedisURL: Equatable {
    static let defaultPort = 6379

    var host: String
    var port = RedisURL.defaultPort
    var database = 0
    var username: String?
    var password: String?

    init(parsing url: String) throws(RedisError) {
        let schemeEnd = url.firstRange(of: "://")
        guard let schemeEnd else {
            throw .invalidURL("expected redis://[:password@]host[:port][/db]")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "redis" else {
            throw .invalidURL(
                scheme == "rediss"
                    ? "TLS (rediss://) is not supported"
                    : "scheme must be redis://, not \(scheme)://")
        }
        var rest = url[schemeEnd.upperBound...]
        if rest.contains(where: { $0 == "?" || $0 == "#" }) {
            throw .invalidURL("query parameters and fragments are not supported; put the database in the path (/db)")
        }

        // The path, if any, names the database.
        var databasePart: Substring?
        if let slash = rest.firstIndex(of: "/") {
            databasePart = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        // Credentials end at the last "@", so an unencoded "@" in a password still parses.
        var hostPart = rest
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            hostPart = rest[rest.index(after: at)...]
            guard let colon = credentials.firstIndex(of: ":") else {
                throw .invalidURL("credentials must be written :password@ or user:password@")
            }
            let user = try Self.percentDecoded(credentials[..<colon], part: "user name")
            let password = try Self.percentDecoded(credentials[credentials.index(after: colon)...], part: "password")
            username = user.isEmpty ? nil : user
            self.password = password.isEmpty ? nil : password
        }

        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            // An IPv6 literal: [::1] or [::1]:6380.
            guard let close = hostPart.firstIndex(of: "]") else {
                throw .invalidURL("IPv6 host is missing its closing ]")
            }
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            let afterHost = hostPart[hostPart.index(after: close)...]
            if !afterHost.isEmpty {
                guard afterHost.hasPrefix(":") else { throw .invalidURL("unexpected text after the IPv6 host") }
                portPart = afterHost.dropFirst()
            }
        } else if let colon = hostPart.firstIndex(of: ":") {
            host = String(hostPart[..<colon])
            portPart = hostPart[hostPart.index(after: colon)...]
        } else {
            host = String(hostPart)
        }
        guard !host.isEmpty else { throw .invalidURL("host is missing") }

        if let portPart {
            guard let port = Self.decimal(portPart), (1...65535).contains(port) else {
                throw .invalidURL("port '\(portPart)' must be a number from 1 to 65535")
            }
            self.port = port
        }
        if let databasePart, !databasePart.isEmpty {
            guard let database = Self.decimal(databasePart) else {
                throw .invalidURL("database '\(databasePart)' must be a non-negative number")
            }
            self.database = database
        }
    }

    /// Digits only: `Int("+1")` and `Int("-1")` would accept signs.
    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// Decodes %XX escapes, so passwords can contain reserved characters such as "/" or "@".
    private static func percentDecoded(_ text: Substring, part: String) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else {
                throw .invalidURL("\(part) has a % that is not followed by two hex digits")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .invalidURL("\(part) is not valid UTF-8 after percent-decoding")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
