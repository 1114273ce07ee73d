import Foundation
import Testing

@testable import SSEFanout

@Suite struct BrowserClientTests {
    private let browser = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/SSEFanout/Browser")

    /// The served text is the checked-in file's: run scripts/embed-web-files.sh after editing it.
    @Test func servedFilesMatchTheirSources() throws {
        let module = try String(contentsOf: browser.appendingPathComponent("sse.js"), encoding: .utf8)
        let types = try String(contentsOf: browser.appendingPathComponent("sse.d.ts"), encoding: .utf8)
        #expect(BrowserClient.moduleSource + "\n" == module)
        #expect(BrowserClient.typesSource + "\n" == types)
    }

    @Test func eachFileHasItsTypeAndAStableTag() {
        #expect(BrowserClient.file(at: "/sse.js")?.contentType.hasPrefix("text/javascript") == true)
        #expect(BrowserClient.file(at: "/sse.d.ts")?.contentType.hasPrefix("application/typescript") == true)
        #expect(BrowserClient.file(at: "/sse.js")?.etag == BrowserClient.module.etag)
        #expect(BrowserClient.module.etag != BrowserClient.types.etag)
        #expect(BrowserClient.file(at: "/other.js") == nil)
    }
}
