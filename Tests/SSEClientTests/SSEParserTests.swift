import NIOCore
import SSEClient
import Testing

@Suite("SSEParser")
struct SSEParserTests {
    /// Feeds each chunk in turn and returns every event produced, with the parser for its counters.
    private func parse(_ chunks: [[UInt8]]) -> (events: [SSEEvent], parser: SSEParser) {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for chunk in chunks {
            events += parser.feed(chunk)
        }
        return (events, parser)
    }

    private func parse(_ chunks: String...) -> (events: [SSEEvent], parser: SSEParser) {
        parse(chunks.map { Array($0.utf8) })
    }

    @Test func lfLineEndings() {
        #expect(parse("data: a\n\ndata: b\n\n").events == [SSEEvent(data: "a"), SSEEvent(data: "b")])
    }

    @Test func crlfLineEndings() {
        #expect(parse("data: a\r\ndata: b\r\n\r\n").events == [SSEEvent(data: "a\nb")])
    }

    @Test func crLineEndings() {
        #expect(parse("data: a\rdata: b\r\r").events == [SSEEvent(data: "a\nb")])
    }

    @Test func mixedLineEndingsInOneStream() {
        #expect(parse("data: a\r\ndata: b\rdata: c\n\r\n").events == [SSEEvent(data: "a\nb\nc")])
    }

    @Test func crlfSplitAcrossChunksIsOneLineEnding() {
        // Were the LF taken as a line of its own, it would be a blank line dispatching "a" alone.
        let result = parse("data: a\r", "\ndata: b\r", "\n\r", "\n")
        #expect(result.events == [SSEEvent(data: "a\nb")])
    }

    @Test func crAtEndOfChunkEndsTheLineWithoutWaitingForTheNextChunk() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: a\r\r".utf8)) == [SSEEvent(data: "a")])
        #expect(parser.feed(Array("\ndata: b\n\n".utf8)) == [SSEEvent(data: "b")])
    }

    @Test func leadingByteOrderMarkIsStripped() {
        #expect(parse("\u{FEFF}data: a\n\n").events == [SSEEvent(data: "a")])
    }

    @Test func byteOrderMarkSplitAcrossChunksIsStripped() {
        let result = parse([[0xEF], [0xBB], [0xBF] + Array("data: a\n\n".utf8)])
        #expect(result.events == [SSEEvent(data: "a")])
    }

    @Test func onlyOneByteOrderMarkAtStreamStartIsStripped() {
        // A second BOM becomes part of the field name, an unknown field; a later BOM likewise.
        #expect(parse("\u{FEFF}\u{FEFF}data: a\n\n").events.isEmpty)
        #expect(parse("data: a\n\n\u{FEFF}data: b\n\n").events == [SSEEvent(data: "a")])
    }

    @Test func commentsAreCountedAndIgnored() {
        let result = parse(": heartbeat\n", "data: a\n:\n", ": x: y\ndata: b\n\n", ":hb\n\n")
        #expect(result.events == [SSEEvent(data: "a\nb")])
        #expect(result.parser.commentCount == 4)
    }

    @Test func fieldWithoutColonHasEmptyValue() {
        #expect(parse("data\n\n").events == [SSEEvent(data: "")])
        #expect(parse("data\ndata\n\n").events == [SSEEvent(data: "\n")])
        #expect(parse("event\ndata: a\n\n").events == [SSEEvent(event: "message", data: "a")])
    }

    @Test func exactlyOneSpaceAfterTheColonIsRemoved() {
        #expect(parse("data:a\n\n").events == [SSEEvent(data: "a")])
        #expect(parse("data:  a \n\n").events == [SSEEvent(data: " a ")])
        #expect(parse("data: a:b: c\n\n").events == [SSEEvent(data: "a:b: c")])
    }

    @Test func multiLineDataIsJoinedWithNewlines() {
        #expect(parse("data: one\ndata:\ndata: three\n\n").events == [SSEEvent(data: "one\n\nthree")])
    }

    @Test func eventTypeAppliesToOneEvent() {
        let result = parse("event: ping\ndata: a\n\ndata: b\n\n")
        #expect(result.events == [SSEEvent(event: "ping", data: "a"), SSEEvent(event: "message", data: "b")])
    }

    @Test func unknownFieldsAreIgnored() {
        #expect(parse("foo: bar\nDATA: x\ndata: a\n\n").events == [SSEEvent(data: "a")])
    }

    @Test func eventIDPersistsAcrossEventsAndIsNilUntilSet() {
        let result = parse("data: a\n\nid: 7\ndata: b\n\ndata: c\n\nid\ndata: d\n\n")
        #expect(
            result.events == [
                SSEEvent(id: nil, data: "a"),
                SSEEvent(id: "7", data: "b"),
                SSEEvent(id: "7", data: "c"),
                SSEEvent(id: "", data: "d"),
            ])
        #expect(result.parser.lastEventID == "")
    }

    @Test func idContainingNULIsIgnored() {
        let result = parse("id: 1\ndata: a\n\nid: 2\u{0}3\ndata: b\n\n")
        #expect(result.events == [SSEEvent(id: "1", data: "a"), SSEEvent(id: "1", data: "b")])
        #expect(result.parser.lastEventID == "1")
    }

    @Test func lastEventIDIsUpdatedByDispatchEvenWithoutData() {
        var parser = SSEParser()
        #expect(parser.feed(Array("id: 5\n".utf8)).isEmpty)
        #expect(parser.lastEventID == "")  // Not yet dispatched.
        #expect(parser.feed(Array("\n".utf8)).isEmpty)
        #expect(parser.lastEventID == "5")
        #expect(parser.feed(Array("data: a\n\n".utf8)) == [SSEEvent(id: "5", data: "a")])
    }

    @Test func retryWithDigitsOnlySetsReconnectionTime() {
        let result = parse("retry: 3000\ndata: a\n\ndata: b\n\n")
        #expect(result.events == [SSEEvent(data: "a", retry: 3000), SSEEvent(data: "b")])
        #expect(result.parser.reconnectionTime == 3000)
    }

    @Test(arguments: [
        "retry: 12a\n", "retry: -5\n", "retry: 1.5\n", "retry:\n", "retry: 5 \n", "retry: 99999999999999999999999\n",
    ])
    func retryWithNonDigitsIsIgnored(line: String) {
        let result = parse("retry: 100\n\n", line + "data: a\n\n")
        #expect(result.events == [SSEEvent(data: "a")])
        #expect(result.parser.reconnectionTime == 100)
    }

    @Test func blankEventIsNotDispatchedAndResetsEventType() {
        let result = parse("event: x\n\n\n\nretry: 10\n\ndata: a\n\n")
        #expect(result.events == [SSEEvent(event: "message", data: "a")])
        #expect(result.parser.reconnectionTime == 10)
    }

    @Test func trailingIncompleteEventIsDropped() {
        #expect(parse("data: a\n\ndata: b\n").events == [SSEEvent(data: "a")])
        #expect(parse("data: a\n\ndata: b").events == [SSEEvent(data: "a")])
    }

    @Test func multiByteUTF8SplitAcrossChunks() {
        let bytes = Array("data: héllo 🌍\n\n".utf8)
        let e = bytes.firstIndex(of: 0xC3)!  // first byte of "é"
        let globe = bytes.firstIndex(of: 0xF0)!  // first byte of the 4-byte globe
        let chunks = [Array(bytes[..<(e + 1)]), Array(bytes[(e + 1)..<(globe + 2)]), Array(bytes[(globe + 2)...])]
        #expect(parse(chunks).events == [SSEEvent(data: "héllo 🌍")])
    }

    @Test func invalidUTF8BecomesReplacementCharacter() {
        #expect(parse([Array("data: a".utf8) + [0xFF] + Array("b\n\n".utf8)]).events == [SSEEvent(data: "a\u{FFFD}b")])
    }

    @Test func byteAtATimeGivesTheSameResultAsOneChunk() {
        let stream = Array(
            ("\u{FEFF}: hi\r\nretry: 250\r\nid: 1\r\nevent: greet\r\ndata: héllo\r\ndata: wörld 🌍\r\n\r\n"
                + "data: cr only\r\rid: 2\ndata: lf\n:c\n\n" + "data\n\nid: bad\u{0}\nevent: x\ndata: y\r\n\r"
                + "\ndata: tail").utf8)
        let whole = parse([stream])
        let byByte = parse(stream.map { [$0] })
        #expect(whole.events.count == 5)
        #expect(byByte.events == whole.events)
        #expect(byByte.parser.commentCount == whole.parser.commentCount)
        #expect(whole.parser.commentCount == 2)
        #expect(byByte.parser.lastEventID == "2")
        #expect(byByte.parser.reconnectionTime == 250)
        #expect(
            whole.events == [
                SSEEvent(id: "1", event: "greet", data: "héllo\nwörld 🌍", retry: 250),
                SSEEvent(id: "1", data: "cr only"),
                SSEEvent(id: "2", data: "lf"),
                SSEEvent(id: "2", data: ""),
                SSEEvent(id: "2", event: "x", data: "y"),
            ])
    }

    @Test func feedsByteBufferWithoutConsumingIt() {
        var parser = SSEParser()
        let buffer = ByteBuffer(string: "data: a\n\n")
        #expect(parser.feed(buffer) == [SSEEvent(data: "a")])
        #expect(buffer.readableBytes == 9)
    }

    @Test func feedsNonContiguousSequences() {
        var parser = SSEParser()
        let bytes = "data: a\n\n".utf8.lazy.map { $0 }
        #expect(parser.feed(bytes) == [SSEEvent(data: "a")])
    }
}
