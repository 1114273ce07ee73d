import NIOCore

/// Incremental parser for the WHATWG HTML "event stream" format ("Interpreting an event stream").
///
/// Feed the body bytes as they arrive, in chunks of any size (a `ByteBuffer` or any `Sequence<UInt8>`);
/// each `feed` returns the events completed by that chunk, in order. Line endings are CRLF, LF or CR,
/// including a CR that ends one chunk and an LF that starts the next. An event that is still incomplete
/// when the stream ends is simply never returned.
///
/// The parser scans each chunk in place; only a line that straddles chunks is copied, into a buffer
/// that is reused. Field values are decoded as UTF-8 (invalid sequences become U+FFFD) once the whole
/// line is present, so a multi-byte character split across chunks decodes correctly.
public struct SSEParser: Sendable {
    /// Comment lines seen (lines starting with ":"; servers send them as heartbeats).
    public private(set) var commentCount: Int = 0
    /// The stream's last event ID string: set from the `id` buffer whenever an event is dispatched
    /// (also by a blank line with no data), "" until then. What a reconnect sends as `Last-Event-ID`.
    public var lastEventID: String { dispatchedEventID ?? "" }
    /// The last valid `retry` value in milliseconds, applied as soon as its line is parsed.
    public private(set) var reconnectionTime: Int?

    /// nil until an `id` field has been applied by a dispatch, so events can report "never set".
    private var dispatchedEventID: String?
    /// Bytes of a line begun in an earlier chunk and not yet terminated.
    private var partialLine: [UInt8] = []
    /// The previous chunk ended in CR, so an LF starting this chunk belongs to the same line ending.
    private var swallowLeadingLF = false
    /// Only the very first line of the stream may start with a byte order mark.
    private var atStreamStart = true
    private var dataBuffer: [UInt8] = []
    private var eventTypeBuffer = ""
    private var eventIDBuffer: String?
    private var retryInEvent: Int?

    public init() {}

    /// Parses the readable bytes of `buffer` (without consuming them) and returns the events they complete.
    public mutating func feed(_ buffer: ByteBuffer) -> [SSEEvent] {
        var events: [SSEEvent] = []
        buffer.withUnsafeReadableBytes { bytes in
            parse(bytes) { events.append($0) }
        }
        return events
    }

    /// Parses `bytes` and returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [SSEEvent] {
        var events: [SSEEvent] = []
        let parsedInPlace: Void? = bytes.withContiguousStorageIfAvailable { storage in
            parse(UnsafeRawBufferPointer(storage)) { events.append($0) }
        }
        if parsedInPlace == nil {
            Array(bytes).withUnsafeBytes { storage in
                parse(storage) { events.append($0) }
            }
        }
        return events
    }

    private mutating func parse(_ bytes: UnsafeRawBufferPointer, emit: (SSEEvent) -> Void) {
        var index = 0
        if swallowLeadingLF, !bytes.isEmpty {
            swallowLeadingLF = false
            if bytes[0] == ASCII.lf { index = 1 }
        }
        var lineStart = index
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == ASCII.lf || byte == ASCII.cr else {
                index += 1
                continue
            }
            completeLine(UnsafeRawBufferPointer(rebasing: bytes[lineStart..<index]), emit: emit)
            if byte == ASCII.cr {
                if index + 1 < bytes.count {
                    if bytes[index + 1] == ASCII.lf { index += 1 }
                } else {
                    swallowLeadingLF = true
                }
            }
            index += 1
            lineStart = index
        }
        if lineStart < bytes.count {
            partialLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[lineStart...]))
        }
    }

    private mutating func completeLine(_ tail: UnsafeRawBufferPointer, emit: (SSEEvent) -> Void) {
        guard !partialLine.isEmpty else {
            processLine(tail, emit: emit)
            return
        }
        partialLine.append(contentsOf: tail)
        // Move the buffer out so processing (which mutates self) does not overlap an access to it.
        var line: [UInt8] = []
        swap(&line, &partialLine)
        line.withUnsafeBytes { processLine($0, emit: emit) }
        line.removeAll(keepingCapacity: true)
        swap(&line, &partialLine)
    }

    private mutating func processLine(_ rawLine: UnsafeRawBufferPointer, emit: (SSEEvent) -> Void) {
        var line = rawLine
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: ASCII.byteOrderMark) {
                line = UnsafeRawBufferPointer(rebasing: line[ASCII.byteOrderMark.count...])
            }
        }
        guard let first = line.first else {
            dispatch(emit: emit)
            return
        }
        if first == ASCII.colon {
            commentCount += 1
            return
        }
        let name: UnsafeRawBufferPointer
        let value: UnsafeRawBufferPointer
        if let colon = line.firstIndex(of: ASCII.colon) {
            name = UnsafeRawBufferPointer(rebasing: line[..<colon])
            var valueStart = colon + 1
            if valueStart < line.count, line[valueStart] == ASCII.space { valueStart += 1 }
            value = UnsafeRawBufferPointer(rebasing: line[valueStart...])
        } else {
            name = line
            value = UnsafeRawBufferPointer(rebasing: line[line.count...])
        }
        processField(name: name, value: value)
    }

    private mutating func processField(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if name.elementsEqual("data".utf8) {
            dataBuffer.append(contentsOf: value)
            dataBuffer.append(ASCII.lf)
        } else if name.elementsEqual("event".utf8) {
            eventTypeBuffer = String(decoding: value, as: UTF8.self)
        } else if name.elementsEqual("id".utf8) {
            if !value.contains(0) {
                eventIDBuffer = String(decoding: value, as: UTF8.self)
            }
        } else if name.elementsEqual("retry".utf8) {
            if let milliseconds = Self.decimalValue(value) {
                reconnectionTime = milliseconds
                retryInEvent = milliseconds
            }
        }
        // Any other field name is ignored, as the spec requires.
    }

    private mutating func dispatch(emit: (SSEEvent) -> Void) {
        if let eventIDBuffer { dispatchedEventID = eventIDBuffer }
        defer {
            dataBuffer.removeAll(keepingCapacity: true)
            eventTypeBuffer = ""
            retryInEvent = nil
        }
        guard !dataBuffer.isEmpty else { return }
        // Every data line appended a trailing LF; the spec removes exactly one.
        let data = String(decoding: dataBuffer.dropLast(), as: UTF8.self)
        emit(
            SSEEvent(
                id: dispatchedEventID,
                event: eventTypeBuffer.isEmpty ? "message" : eventTypeBuffer,
                data: data,
                retry: retryInEvent
            )
        )
    }

    /// The value of a non-empty run of ASCII digits; nil for anything else, including values too large for Int.
    private static func decimalValue(_ digits: UnsafeRawBufferPointer) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= ASCII.zero, byte <= ASCII.nine else { return nil }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.addingReportingOverflow(Int(byte - ASCII.zero))
            guard !overflowA, !overflowB else { return nil }
            value = sum
        }
        return value
    }

    private enum ASCII {
        static let lf = UInt8(ascii: "\n")
        static let cr = UInt8(ascii: "\r")
        static let colon = UInt8(ascii: ":")
        static let space = UInt8(ascii: " ")
        static let zero = UInt8(ascii: "0")
        static let nine = UInt8(ascii: "9")
        static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
    }
}
