// `Last-Event-ID` (header or `lastEventId` query parameter): ResumeToken(text:), then what StreamOpener
// does with it. A token that parses prints back to text that parses to the same token, and writes the
// same bytes as its text.
import NIOCore

@testable import SSEFanout

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let token = ResumeToken(text: text(start, count)) else { return 0 }
    let printed = token.text
    require(ResumeToken(text: printed) == token, "token changed through text")
    var buffer = ByteBuffer()
    token.write(to: &buffer)
    require(String(buffer: buffer) == printed, "write(to:) differs from text")
    // As StreamOpener reads it for a connection's streams.
    let streams: [Address] = [.user("alice"), .session("s"), .tenant("acme"), .broadcast, .channel("news"), .channel("sport")]
    var resumed = ResumeToken(positions: streams.map { ($0.tag, token.position(of: $0) ?? StreamPosition(milliseconds: 0)) })
    for (tag, position) in token.positions {
        resumed.advance(tag: tag, to: position)
    }
    return 0
}
