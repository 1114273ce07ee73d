import Foundation

/// Small JSON bodies for the plain routes, with a stable key order.
enum JSONBody {
    static func encode(_ object: [String: Any]) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }

    static func error(_ code: String, _ message: String) -> [UInt8] {
        encode(["error": code, "message": message])
    }

    /// The refusal of a stream whose target was kicked with `reconnect: false`.
    static func kicked(_ kick: Kick) -> [UInt8] {
        encode(["error": "kicked", "message": "kicked: \(kick.reason)", "reason": kick.reason, "until": kick.barredUntil ?? 0] as [String: Any])
    }

    /// Appends `text` as a JSON string, escaped byte for byte as Foundation's JSON writers escape it:
    /// quote, backslash, `\b \f \n \r \t`, other control characters as `\u00XX`, and `/` as `\/` when
    /// `escapingSlashes` (JSONEncoder's default; JSONSerialization with `.withoutEscapingSlashes` keeps it).
    /// For the hot paths (a stream's `connected` event, its registry entry), which JSONSerialization and
    /// JSONEncoder made the most expensive part of opening a stream.
    static func appendString(_ text: String, to out: inout String, escapingSlashes: Bool = false) {
        out.append("\"")
        let bytes = text.utf8
        guard bytes.contains(where: { needsEscape($0, escapingSlashes) }) else {
            out.append(text)
            out.append("\"")
            return
        }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(bytes.count + 8)
        for byte in bytes {
            guard needsEscape(byte, escapingSlashes) else {
                escaped.append(byte)
                continue
            }
            escaped.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escaped.append(byte)
            case 0x08: escaped.append(UInt8(ascii: "b"))
            case 0x0C: escaped.append(UInt8(ascii: "f"))
            case 0x0A: escaped.append(UInt8(ascii: "n"))
            case 0x0D: escaped.append(UInt8(ascii: "r"))
            case 0x09: escaped.append(UInt8(ascii: "t"))
            default:
                escaped.append(contentsOf: "u00".utf8)
                escaped.append(hexDigits[Int(byte >> 4)])
                escaped.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        out.append(String(decoding: escaped, as: UTF8.self))
        out.append("\"")
    }

    /// Appends `strings` as a JSON array of strings (see `appendString`).
    static func appendStrings(_ strings: [String], to out: inout String, escapingSlashes: Bool = false) {
        out.append("[")
        for (index, string) in strings.enumerated() {
            if index > 0 { out.append(",") }
            appendString(string, to: &out, escapingSlashes: escapingSlashes)
        }
        out.append("]")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func needsEscape(_ byte: UInt8, _ escapingSlashes: Bool) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (escapingSlashes && byte == UInt8(ascii: "/"))
    }
}
