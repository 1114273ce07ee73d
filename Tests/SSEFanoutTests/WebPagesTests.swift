import Foundation
import Testing

@testable import SSEFanout

@Suite struct WebPagesTests {
    private let pages = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/SSEFanout/Pages")

    /// The served pages are the checked-in files: run scripts/embed-web-files.sh after editing one.
    @Test func servedPagesMatchTheirSources() throws {
        let demo = try String(contentsOf: pages.appendingPathComponent("demo.html"), encoding: .utf8)
        let admin = try String(contentsOf: pages.appendingPathComponent("admin.html"), encoding: .utf8)
        #expect(WebPages.demoSource + "\n" == demo)
        #expect(WebPages.adminSource + "\n" == admin)
        #expect(WebPages.demo.etag != WebPages.admin.etag)
    }

    @Test func aDemoTokenRequestNamesAUserAndDemoChannels() throws {
        let request = try DemoRoutes.Request(Array(#"{"user": "ann"}"#.utf8))
        #expect(request == (try DemoRoutes.Request(Array(#"{"user": "ann", "tenant": "demo", "channels": ["demo-*"]}"#.utf8))))
        #expect(throws: PublicationError.self) { try DemoRoutes.Request(Array(#"{"user": "ann", "channels": []}"#.utf8)) }
        #expect(throws: PublicationError.self) { try DemoRoutes.Request(Array(#"{"user": "ann", "channels": ["*"]}"#.utf8)) }
        #expect(throws: PublicationError.self) { try DemoRoutes.Request(Array(#"{"user": ""}"#.utf8)) }
        #expect(throws: PublicationError.self) { try DemoRoutes.Request(Array(#"["ann"]"#.utf8)) }
    }

    @Test func globCharactersAreEscapedForScan() {
        #expect(RedisRegistry.globEscaped(#"sse:a*b?[c]\d"#) == #"sse:a\*b\?\[c\]\\d"#)
    }
}
