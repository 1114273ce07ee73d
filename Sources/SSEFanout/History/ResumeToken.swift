import NIOCore

/// The SSE `id:` of every event: where the connection stands in each stream it reads, so a client
/// that reconnects anywhere with `Last-Event-ID` resumes all of them (its user, channels, broadcast).
///
/// Text form: `1` then, per stream, `.` tag `~` position, positions as base-36 `ms-seq`:
/// `1.u~lsk2j3k0-0.b~lsk2j3k0-2.c1x3k9z~lsk2j1a0-0`.
public struct ResumeToken: Sendable, Equatable {
    public static let version = "1"

    /// Position per stream tag (see `Address.tag`).
    public private(set) var positions: [(tag: String, position: StreamPosition)]

    public init(positions: [(tag: String, position: StreamPosition)] = []) {
        self.positions = positions
    }

    /// A token standing at `position` in every one of `streams`.
    public init(streams: [Address], at position: StreamPosition) {
        self.positions = streams.map { ($0.tag, position) }
    }

    public static func == (a: ResumeToken, b: ResumeToken) -> Bool {
        a.positions.elementsEqual(b.positions) { $0.tag == $1.tag && $0.position == $1.position }
    }

    public func position(of stream: Address) -> StreamPosition? {
        position(ofTag: stream.tag)
    }

    func position(ofTag tag: String) -> StreamPosition? {
        positions.first { $0.tag == tag }?.position
    }

    /// Moves the stream forward; a position at or behind the current one changes nothing.
    /// Returns false when the event was already passed (a duplicate at a resume seam).
    @discardableResult
    public mutating func advance(_ stream: Address, to position: StreamPosition) -> Bool {
        advance(tag: stream.tag, to: position)
    }

    /// `advance(_:to:)` for a stream known by its tag.
    @discardableResult
    mutating func advance(tag: String, to position: StreamPosition) -> Bool {
        if let index = positions.firstIndex(where: { $0.tag == tag }) {
            guard position > positions[index].position else { return false }
            positions[index].position = position
        } else {
            positions.append((tag, position))
        }
        return true
    }

    public var text: String {
        var out = Self.version
        for (tag, position) in positions {
            out += "."
            out += tag
            out += "~"
            out += String(position.milliseconds, radix: 36)
            out += "-"
            out += String(position.sequence, radix: 36)
        }
        return out
    }

    /// The longest `id:` line put together on the stack (`writeIDLine`); a longer one is written piece
    /// by piece.
    private static let idLineScratch = 512
    private static let idPrefix = Array("id: \(version)".utf8)

    /// `id: ` `text` and a newline into `buffer`. It runs for every event and every stream, so the line is
    /// put together on the stack and written with one call, rather than a dozen small writes that each
    /// check the buffer's capacity and ownership.
    func writeIDLine(to buffer: inout ByteBuffer) {
        var longest = 6
        for (tag, _) in positions { longest += tag.utf8.count + 3 + 2 * Base36.maxDigits }
        guard longest <= Self.idLineScratch else {
            buffer.writeStaticString("id: ")
            write(to: &buffer)
            buffer.writeInteger(UInt8(ascii: "\n"))
            return
        }
        withUnsafeTemporaryAllocation(byteCount: Self.idLineScratch, alignment: 8) { line in
            var at = 0
            for byte in Self.idPrefix {
                line[at] = byte
                at += 1
            }
            for (tag, position) in positions {
                line[at] = UInt8(ascii: ".")
                at += 1
                for byte in tag.utf8 {
                    line[at] = byte
                    at += 1
                }
                line[at] = UInt8(ascii: "~")
                at += 1
                at += Base36.write(position.milliseconds, into: line, at: at)
                line[at] = UInt8(ascii: "-")
                at += 1
                at += Base36.write(position.sequence, into: line, at: at)
            }
            line[at] = UInt8(ascii: "\n")
            at += 1
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: line[..<at]))
        }
    }

    /// Writes `text` straight into `buffer`: the same bytes, without building a string.
    func write(to buffer: inout ByteBuffer) {
        buffer.writeString(Self.version)
        for (tag, position) in positions {
            buffer.writeInteger(UInt8(ascii: "."))
            buffer.writeString(tag)
            buffer.writeInteger(UInt8(ascii: "~"))
            buffer.writeBase36(position.milliseconds)
            buffer.writeInteger(UInt8(ascii: "-"))
            buffer.writeBase36(position.sequence)
        }
    }

    /// Parses a token; nil for anything else (an id from another server or format).
    public init?(text: String) {
        var parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.first == Substring(Self.version), parts.count <= 130 else { return nil }
        parts.removeFirst()
        var positions: [(String, StreamPosition)] = []
        for part in parts {
            let pieces = part.split(separator: "~", maxSplits: 1)
            guard pieces.count == 2, !pieces[0].isEmpty else { return nil }
            let numbers = pieces[1].split(separator: "-", maxSplits: 1)
            guard numbers.count == 2, let ms = UInt64(numbers[0], radix: 36), let seq = UInt64(numbers[1], radix: 36) else { return nil }
            positions.append((String(pieces[0]), StreamPosition(milliseconds: ms, sequence: seq)))
        }
        self.positions = positions
    }
}
