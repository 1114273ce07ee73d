import NIOHTTP1
import Testing

@testable import SSEFanout

@Suite struct AuthTokenSourceTests {
    /// `source:token`, or nil.
    private func token(_ headers: [(String, String)], _ uri: String = "/events", cookie: String = "sse_token") -> String? {
        TokenSource.token(headers: HTTPHeaders(headers), uri: uri, cookieName: cookie).map { "\($0.source):\($0.token)" }
    }

    @Test func headerThenCookieThenQuery() {
        let all: [(String, String)] = [("Authorization", "Bearer from-header"), ("Cookie", "sse_token=from-cookie")]
        #expect(token(all, "/events?token=from-query") == "authorization:from-header")
        #expect(token([("Cookie", "sse_token=from-cookie")], "/events?token=from-query") == "cookie:from-cookie")
        #expect(token([], "/events?user=a&token=from-query&channel=x") == "query:from-query")
        #expect(token([]) == nil)
        #expect(token([], "/events?user=alice") == nil)
    }

    @Test func bearerHeaderParsing() {
        #expect(token([("authorization", "bearer abc.def.ghi")]) == "authorization:abc.def.ghi")
        #expect(token([("Authorization", "BEARER   abc  ")]) == "authorization:abc")
        // Other schemes and empty credentials fall through to the next source.
        #expect(token([("Authorization", "Basic dXNlcjpwYXNz")], "/?token=q") == "query:q")
        #expect(token([("Authorization", "Bearer")], "/?token=q") == "query:q")
        #expect(token([("Authorization", "Bearer ")], "/?token=q") == "query:q")
        #expect(token([("Authorization", "Bearerabc")], "/?token=q") == "query:q")
        #expect(TokenSource.bearerToken(HTTPHeaders([("Authorization", "Basic x"), ("Authorization", "Bearer second")])) == "second")
    }

    /// The scheme and the blanks around the token are found by bytes: a Character may join a mark to a
    /// blank (U+0600 before it, U+0301 after it), and NIO keeps the blanks that end a header value.
    @Test func bearerBlanksAreBytesWhateverCharactersTheyArePartOf() {
        #expect(token([("Authorization", "Bearer tok\u{0600}  \t ")]) == "authorization:tok\u{0600}")
        #expect(token([("Authorization", "Bearer \u{0600} \u{0600}")]) == "authorization:\u{0600} \u{0600}")
        #expect(token([("Authorization", "Bearer \u{0301}tok")]) == "authorization:\u{0301}tok")
        #expect(token([("Authorization", "Bearer\u{0301} tok")], "/?token=q") == "query:q")
    }

    @Test func cookieParsingAmongSeveral() {
        let headers: [(String, String)] = [("Cookie", "theme=dark; sse_token_old=no; sse_token=yes; other=1")]
        #expect(token(headers) == "cookie:yes")
        #expect(token([("Cookie", "a=1"), ("Cookie", "b=2;sse_token=\"quoted\"")]) == "cookie:quoted")
        #expect(token([("Cookie", "x_sse_token=no; SSE_TOKEN=no")]) == nil)
        #expect(token([("Cookie", "sse_token=; a=b")], "/?token=q") == "query:q")
        #expect(token([("Cookie", "session=abc")], cookie: "session") == "cookie:abc")
        // A value may itself hold '='.
        #expect(TokenSource.cookie(named: "t", in: HTTPHeaders([("Cookie", "t=a=b")])) == "a=b")
    }

    @Test func queryParsing() {
        #expect(token([], "/events?token=a%2Eb.c") == "query:a.b.c")
        #expect(token([], "/events?t%6Fken=abc") == "query:abc")
        #expect(token([], "/events?mytoken=no&token=&token=second") == "query:second")
        #expect(token([], "/events?user=a#token=frag") == nil)
        #expect(token([], "/events?token") == nil)
    }

    @Test func aLoggedURIKeepsItsPathAndOnlyTheParametersThatCarryNoCredential() {
        #expect(LogRedaction.uri("/events?user=alice&token=eyJ.abc.def&channel=news") == "/events?user=alice&…&channel=news")
        #expect(LogRedaction.uri("/events?token=a&token=b") == "/events?…&…")
        #expect(LogRedaction.uri("/events?t%6Fken=secret") == "/events?…")
        // Wherever a token stands: behind a `;`, as a bare item, under another name, percent-encoded.
        #expect(LogRedaction.uri("/events?x=1;token=eyJ.abc.def") == "/events?…&…")
        #expect(LogRedaction.uri("/events?eyJ.abc.def") == "/events?…")
        #expect(LogRedaction.uri("/events?access_token=eyJ.abc.def&channel=a") == "/events?…&channel=a")
        #expect(LogRedaction.uri("/events?channel=a%26token%3DeyJ.abc.def") == "/events?…")
        #expect(LogRedaction.uri("/events?token=abc#frag") == "/events?…")
        #expect(LogRedaction.uri("/events") == "/events")
        #expect(LogRedaction.uri("/events?") == "/events?")
        let uri = "/events?channel=a&token=" + String(repeating: "x", count: 500)
        #expect(!LogRedaction.uri(uri).contains("xxx"))
    }
}
