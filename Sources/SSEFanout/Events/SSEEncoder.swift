import NIOCore

/// Frames events as the WHATWG `text/event-stream` format. Each event is encoded once into a
/// `ByteBuffer` whose storage every receiving connection shares.
public enum SSEEncoder {
    /// Refuses values that cannot sit on one SSE field line.
    public static func validateField(_ name: String, _ value: String) throws(PublicationError) {
        if value.utf8.count > PublicationCodec.maxFieldLength {
            throw PublicationError("invalid_\(name)", "'\(name)' must be at most \(PublicationCodec.maxFieldLength) bytes")
        }
        if value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }) {
            throw PublicationError("invalid_\(name)", "'\(name)' must not contain CR, LF or NUL")
        }
    }

    /// One event: `id`, `event`, `retry`, then one `data:` line per line of `data`
    /// (CRLF, CR and LF all end a line), then the blank line that dispatches it.
    public static func encode(
        id: String?, event: String?, data: String, retry: Int? = nil,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: data.utf8.count + (id?.utf8.count ?? 0) + (event?.utf8.count ?? 0) + 32)
        if let id {
            buffer.writeStaticString("id: ")
            buffer.writeString(id)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        if let event {
            buffer.writeStaticString("event: ")
            buffer.writeString(event)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        if let retry {
            buffer.writeStaticString("retry: ")
            buffer.writeString(String(retry))
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        writeDataLines(data, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// A publication's fields without its `id:` line, which differs per connection (a resume token)
    /// and is written just before these shared bytes.
    public static func encodeBody(_ publication: Publication, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        encode(id: nil, event: publication.event, data: publication.data.sseText, retry: publication.retry, allocator: allocator)
    }

    /// A comment line, e.g. a heartbeat. Newlines in `text` are dropped: a comment is one line.
    public static func comment(_ text: String, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: text.utf8.count + 4)
        buffer.writeStaticString(":")
        if !text.isEmpty {
            buffer.writeStaticString(" ")
            buffer.writeBytes(text.utf8.filter { $0 != 0x0A && $0 != 0x0D })
        }
        buffer.writeStaticString("\n\n")
        return buffer
    }

    private static func writeDataLines(_ data: String, into buffer: inout ByteBuffer) {
        let bytes = data.utf8
        var lineStart = bytes.startIndex
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                writeDataLine(bytes[lineStart..<index], into: &buffer)
                let next = bytes.index(after: index)
                // CRLF is one line ending, not two.
                if byte == 0x0D, next != bytes.endIndex, bytes[next] == 0x0A {
                    index = bytes.index(after: next)
                } else {
                    index = next
                }
                lineStart = index
            } else {
                index = bytes.index(after: index)
            }
        }
        writeDataLine(bytes[lineStart..<bytes.endIndex], into: &buffer)
    }

    private static func writeDataLine(_ line: Substring.UTF8View, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("data: ")
        buffer.writeBytes(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}
