import Testing

@testable import SSEClient

@Suite("HTTPURL")
struct HTTPURLTests {
    @Test func parsesHostPortPathAndQuery() throws {
        let url = try HTTPURL(parsing: "http://127.0.0.1:8080/events?channel=a&b=1#frag")
        #expect(url == HTTPURL(host: "127.0.0.1", port: 8080, target: "/events?channel=a&b=1"))
        #expect(url.hostHeader == "127.0.0.1:8080")
    }

    @Test func defaultsPortAndPath() throws {
        #expect(try HTTPURL(parsing: "HTTP://example.com") == HTTPURL(host: "example.com", port: 80, target: "/"))
        #expect(try HTTPURL(parsing: "http://example.com?x=1").target == "/?x=1")
        #expect(try HTTPURL(parsing: "http://example.com/a").hostHeader == "example.com")
    }

    @Test func parsesBracketedIPv6() throws {
        let url = try HTTPURL(parsing: "http://[::1]:9000/healthz")
        #expect(url == HTTPURL(host: "::1", port: 9000, target: "/healthz"))
        #expect(url.hostHeader == "[::1]:9000")
    }

    @Test func percentEncodesCharactersThatWouldBreakTheRequestLine() throws {
        let url = try HTTPURL(parsing: "http://h/events?channel=café au lait")
        #expect(url.target == "/events?channel=caf%C3%A9%20au%20lait")
        #expect(try HTTPURL(parsing: "http://h/a\r\nX-Injected: 1").target == "/a%0D%0AX-Injected:%201")
    }

    @Test(arguments: [
        "https://example.com/", "ftp://h/", "http://", "http:///path", "http://h:0/", "http://h:65536/",
        "http://h:+80/", "http://h:x/", "http://user@h/", "http://[::1/", "http://[::1]x/", "example.com",
    ])
    func rejects(url: String) {
        #expect(throws: SSEClientError.invalidURL(url)) { try HTTPURL(parsing: url) }
    }
}
