import NIOCore
import Testing

@testable import SSEFanout

/// A resume token's positions in base 36: the bytes `String(value, radix: 36)` spells, for any value.
@Suite struct Base36Tests {
    @Test func randomValuesAfterOtherBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let value = UInt64.random(in: 0...UInt64.max, using: &generator) >> UInt64.random(in: 0...63, using: &generator)
            var buffer = ByteBuffer(string: "x~")
            buffer.writeBase36(value)
            #expect(String(buffer: buffer) == "x~" + String(value, radix: 36))
        }
    }
}
