import NIOHTTP1
import Testing

@testable import SSEFanout

/// A token in the cookie is honoured only for the node's own pages and the origins on the list.
@Suite struct CookieOriginTests {
    private func headers(_ pairs: [(String, String)]) -> HTTPHeaders {
        HTTPHeaders([("Host", "push.example:8080")] + pairs)
    }

    @Test func theCookieIsRefusedFromAnotherSiteWhateverTheCORSSetting() {
        for policy in [CORSPolicy(allowedOrigins: []), CORSPolicy(allowedOrigins: ["*"]), CORSPolicy(allowedOrigins: ["https://app.example"])] {
            #expect(policy.refusesCookie(headers([("Origin", "https://evil.example")])))
            #expect(policy.refusesCookie(headers([("Origin", "null")])))
            #expect(policy.refusesCookie(headers([("Referer", "https://evil.example/form.html")])))
            // The node's own origin, and requests that are no page's.
            #expect(!policy.refusesCookie(headers([("Origin", "http://push.example:8080")])))
            #expect(!policy.refusesCookie(headers([("Origin", "https://push.example:8080")])))
            #expect(!policy.refusesCookie(headers([("Referer", "http://push.example:8080/demo?x=1")])))
            #expect(!policy.refusesCookie(headers([])))
        }
        // An origin named on the list may use it.
        #expect(!CORSPolicy(allowedOrigins: ["https://app.example"]).refusesCookie(headers([("Origin", "https://app.example")])))
        #expect(CORSPolicy.pageOrigin(HTTPHeaders([("Referer", "https://a.example:8443/x/y?z#w")])) == "https://a.example:8443")
    }
}
