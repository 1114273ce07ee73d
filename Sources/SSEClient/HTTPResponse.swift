/// A complete HTTP response as read by `HTTPClient.request`.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields in the order received, names as sent by the server.
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name`, matched case-insensitively.
    public func header(_ name: String) -> String? {
        headers.firstValue(forHeader: name)
    }

    /// The body decoded as UTF-8 (invalid bytes become U+FFFD).
    public var bodyString: String {
        String(decoding: body, as: UTF8.self)
    }
}
