import NIOCore

/// A cheap scanner for an event stream's body: it finds the blank lines that end events and reads the
/// two numbers a benchmark payload starts with (`<seq> <sentAt> …`) from each event's first `data:` line.
/// It keeps no bytes between reads: its whole state is a few integers, so events split across reads
/// are handled without copying. Events whose data does not start with two numbers (sse-fanout's
/// `connected`, nchan's `: hi`, heartbeats) are not reported. CR bytes are ignored, so CRLF works too.
struct EventScanner {
    private static let dataPrefix: [UInt8] = Array("data: ".utf8)

    private enum LineState {
        /// Matching `data: ` at the start of the line; the value is how many bytes matched so far.
        case prefix(Int)
        /// Reading the payload's numbers on the event's first data line.
        case numbers
        /// The rest of the line does not matter.
        case skipping
    }

    private var line = LineState.prefix(0)
    private var atLineStart = true
    private var sawDataLine = false
    /// 0: reading the sequence number; 1: reading the timestamp.
    private var field = 0
    private var digits = 0
    private var sequence: UInt64 = 0
    private var sentAt: UInt64 = 0
    private var complete = false

    /// Scans `buffer`'s readable bytes and calls `event(sequence, sentAt)` for each benchmark event ended in it.
    mutating func scan(_ buffer: ByteBuffer, event: (UInt64, UInt64) -> Void) {
        buffer.withUnsafeReadableBytes { scan($0, event: event) }
    }

    mutating func scan(_ bytes: UnsafeRawBufferPointer, event: (UInt64, UInt64) -> Void) {
        for byte in bytes {
            consume(byte, event: event)
        }
    }

    @inline(__always)
    private mutating func consume(_ byte: UInt8, event: (UInt64, UInt64) -> Void) {
        switch byte {
        case UInt8(ascii: "\r"):
            return
        case UInt8(ascii: "\n"):
            if atLineStart {
                // A blank line: the event ends.
                if complete { event(sequence, sentAt) }
                sawDataLine = false
                complete = false
            } else if case .numbers = line, field == 1, digits > 0 {
                complete = true  // the data line ended right after the timestamp
            }
            atLineStart = true
            line = .prefix(0)
            return
        default:
            atLineStart = false
        }
        switch line {
        case .skipping:
            return
        case .prefix(let matched):
            if byte == Self.dataPrefix[matched] {
                if matched + 1 == Self.dataPrefix.count {
                    if sawDataLine {
                        line = .skipping  // only the first data line carries the numbers
                    } else {
                        sawDataLine = true
                        field = 0
                        digits = 0
                        sequence = 0
                        sentAt = 0
                        line = .numbers
                    }
                } else {
                    line = .prefix(matched + 1)
                }
            } else {
                line = .skipping
            }
        case .numbers:
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let digit = UInt64(byte &- UInt8(ascii: "0"))
                if field == 0 { sequence = sequence &* 10 &+ digit } else { sentAt = sentAt &* 10 &+ digit }
                digits += 1
            } else if byte == UInt8(ascii: " "), field == 0, digits > 0 {
                field = 1
                digits = 0
            } else {
                complete = field == 1 && digits > 0
                line = .skipping
            }
        }
    }
}
