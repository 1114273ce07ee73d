/// Writes strings as JSON string literals, into bytes or into a `String`, for the hot paths (events,
/// a stream's `connected` event, registry entries, lifecycle events), where Foundation's JSON writers
/// were the most expensive part of the work.
///
/// The escaping follows `JSONEncoder` and `JSONSerialization` byte for byte: quote and backslash
/// escaped, `\b \f \n \r \t` for those control characters, the other characters below U+0020 as
/// `\u00XX` (lower-case hex), everything else, DEL and non-ASCII included, as its UTF-8. `/` is written
/// as `\/` only with `escapingSlashes`, as `JSONEncoder` does by default; without it, as
/// `JSONSerialization` with `.withoutEscapingSlashes` does. One exception: U+FEFF is written `\ufeff`,
/// where they write it as it is, because `JSONSerialization` takes a U+FEFF that starts a string or
/// follows an escape for a byte order mark and drops it, and nodes read each other's events with it.
enum JSONString {
    /// Appends `text`, quoted and escaped, to `out`.
    static func append(_ text: String, to out: inout [UInt8], escapingSlashes: Bool = false) {
        out.append(UInt8(ascii: "\""))
        if needsEscaping(text, escapingSlashes: escapingSlashes) {
            appendEscaped(text, to: &out, escapingSlashes: escapingSlashes)
        } else {
            out.append(contentsOf: text.utf8)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `text`, quoted and escaped, to `out`.
    static func append(_ text: String, to out: inout String, escapingSlashes: Bool = false) {
        out.append("\"")
        if needsEscaping(text, escapingSlashes: escapingSlashes) {
            var escaped: [UInt8] = []
            escaped.reserveCapacity(text.utf8.count + 8)
            appendEscaped(text, to: &escaped, escapingSlashes: escapingSlashes)
            out.append(String(decoding: escaped, as: UTF8.self))
        } else {
            out.append(text)
        }
        out.append("\"")
    }

    /// Appends `strings` as a JSON array of strings to `out`.
    static func appendArray(_ strings: [String], to out: inout String, escapingSlashes: Bool = false) {
        out.append("[")
        for (index, string) in strings.enumerated() {
            if index > 0 { out.append(",") }
            append(string, to: &out, escapingSlashes: escapingSlashes)
        }
        out.append("]")
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        append(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Most strings need no escape at all, and are then copied whole. 0xEF leads the UTF-8 of U+FEFF
    /// (and of the rest of U+F000 to U+FFFF, which then take the slower path for nothing).
    private static func needsEscaping(_ text: String, escapingSlashes: Bool) -> Bool {
        text.utf8.contains { $0 == 0xEF || escape(for: $0, escapingSlashes: escapingSlashes) != nil }
    }

    private static func appendEscaped(_ text: String, to out: inout [UInt8], escapingSlashes: Bool) {
        var text = text
        text.withUTF8 { bytes in
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == 0xEF, index + 1 < bytes.count, bytes[index] == 0xBB, bytes[index + 1] == 0xBF {
                    out.append(contentsOf: #"\ufeff"#.utf8)
                    index += 2
                    continue
                }
                guard let escape = escape(for: byte, escapingSlashes: escapingSlashes) else {
                    out.append(byte)
                    continue
                }
                out.append(UInt8(ascii: "\\"))
                out.append(escape)
                if escape == UInt8(ascii: "u") {
                    out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: "0")])
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                }
            }
        }
    }

    /// The one table of escapes: what follows the backslash for `byte` (`u` for `\u00XX`), or nil for
    /// a byte written as it is.
    @inline(__always)
    private static func escape(for byte: UInt8, escapingSlashes: Bool) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte
        case UInt8(ascii: "/"): escapingSlashes ? byte : nil
        case 0x08: UInt8(ascii: "b")
        case 0x0C: UInt8(ascii: "f")
        case 0x0A: UInt8(ascii: "n")
        case 0x0D: UInt8(ascii: "r")
        case 0x09: UInt8(ascii: "t")
        case 0..<0x20: UInt8(ascii: "u")
        default: nil
        }
    }
}
