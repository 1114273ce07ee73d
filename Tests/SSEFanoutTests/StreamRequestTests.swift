import NIOHTTP1
import Testing

@testable import SSEFanout

@Suite struct StreamRequestTests {
    @Test func readsUserChannelsAndClientId() throws {
        let request = try StreamRequest(uri: "/events?user=alice&channel=news&channel=sport&channel=news&clientId=tab%201")
        #expect(request.user == "alice")
        #expect(request.channels == ["news", "sport"])
        #expect(request.clientID == "tab 1")
    }

    @Test func anonymousStreamIsAllowed() throws {
        let request = try StreamRequest(uri: "/events")
        #expect(request.user == nil && request.channels.isEmpty)
    }

    @Test func refusesEmptyOrControlCharacterIdentifiers() {
        #expect(throws: PublicationError.self) { try StreamRequest(uri: "/events?user=") }
        #expect(throws: PublicationError.self) { try StreamRequest(uri: "/events?channel=a%0Ab") }
        #expect(throws: PublicationError.self) { try StreamRequest(uri: "/events?user=" + String(repeating: "x", count: 300)) }
    }
}

@Suite struct CORSPolicyTests {
    private func request(origin: String?, preflightHeaders: String? = nil) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        if let origin { headers.add(name: "Origin", value: origin) }
        if let preflightHeaders { headers.add(name: "Access-Control-Request-Headers", value: preflightHeaders) }
        return HTTPRequestHead(version: .http1_1, method: .OPTIONS, uri: "/publish", headers: headers)
    }

    @Test func listedOriginIsEchoedWithVary() {
        let policy = CORSPolicy(allowedOrigins: ["https://app.example"])
        let headers = policy.responseHeaders(for: request(origin: "https://app.example"))
        #expect(headers.contains { $0 == ("Access-Control-Allow-Origin", "https://app.example") })
        #expect(headers.contains { $0 == ("Vary", "Origin") })
        #expect(policy.responseHeaders(for: request(origin: "https://evil.example")).isEmpty)
        #expect(policy.preflightHeaders(for: request(origin: "https://evil.example")) == nil)
    }

    @Test func wildcardAllowsAnyOriginAndAnswersPreflight() throws {
        let policy = CORSPolicy(allowedOrigins: ["*"])
        let headers = try #require(policy.preflightHeaders(for: request(origin: "http://x", preflightHeaders: "content-type")))
        #expect(headers.contains { $0 == ("Access-Control-Allow-Origin", "*") })
        #expect(headers.contains { $0.0 == "Access-Control-Allow-Methods" && $0.1.contains("POST") })
        #expect(headers.contains { $0 == ("Access-Control-Allow-Headers", "content-type") })
    }

    @Test func noOriginsConfiguredMeansNoCORS() {
        #expect(CORSPolicy(allowedOrigins: []).responseHeaders(for: request(origin: "http://x")).isEmpty)
    }
}
