import NIOCore
import SSEClient
import Testing

@testable import SSEFanout

@Suite struct SSEEncoderTests {
    private func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }

    @Test func framesIdEventRetryAndData() {
        let frame = SSEEncoder.encode(id: "42", event: "greeting", data: "hello", retry: 2500)
        #expect(text(frame) == "id: 42\nevent: greeting\nretry: 2500\ndata: hello\n\n")
    }

    @Test func omitsAbsentFields() {
        #expect(text(SSEEncoder.encode(id: nil, event: nil, data: "x")) == "data: x\n\n")
    }

    @Test(arguments: [
        ("a\nb", "data: a\ndata: b\n"),
        ("a\rb", "data: a\ndata: b\n"),
        ("a\r\nb", "data: a\ndata: b\n"),
        ("a\n\rb", "data: a\ndata: \ndata: b\n"),
        ("a\r\n\r\nb", "data: a\ndata: \ndata: b\n"),
        ("trailing\n", "data: trailing\ndata: \n"),
        ("", "data: \n"),
    ])
    func splitsDataOnEveryLineEnding(input: String, expected: String) {
        #expect(text(SSEEncoder.encode(id: nil, event: nil, data: input)) == expected + "\n")
    }

    /// What a spec-following parser reads back is exactly what was published.
    @Test(arguments: ["plain", "two\nlines", "cr\ronly", "crlf\r\nlines", "", "\n", "ünï©ødé ✓", " leading space", "data: inside", ":colon first"])
    func roundTripsThroughAnSSEParser(data: String) {
        var parser = SSEParser()
        let events = parser.feed(Array(String(buffer: SSEEncoder.encode(id: "7", event: "e", data: data)).utf8))
        let expected = data.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        #expect(events == [SSEEvent(id: "7", event: "e", data: expected)])
    }

    @Test func commentIsOneLine() {
        #expect(text(SSEEncoder.comment("heartbeat")) == ": heartbeat\n\n")
        #expect(text(SSEEncoder.comment("a\nb")) == ": ab\n\n")
        #expect(text(SSEEncoder.comment("")) == ":\n\n")
    }

    @Test(arguments: ["a\nb", "a\rb", "a\u{0}b"])
    func refusesLineBreaksAndNULInFields(value: String) {
        #expect(throws: PublicationError.self) { try SSEEncoder.validateField("id", value) }
        #expect(throws: PublicationError.self) { try SSEEncoder.validateField("event", value) }
    }
}
