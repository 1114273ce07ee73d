/// Checks that bytes arriving in pieces make one JSON text (RFC 8259: any value at the top, UTF-8,
/// no byte order mark), keeping nothing of them but one entry per open object or array: a send's body
/// is checked as it streams to the backend, without being held.
struct JSONStreamValidator {
    /// Deeper nesting is not JSON this node passes on: the open containers are all it remembers.
    static let maxDepth = 512

    private enum Number {
        case minus, zero, integer, point, fraction, exponentMark, exponentSign, exponent

        /// Whether a number may end here.
        var isWhole: Bool {
            switch self {
            case .zero, .integer, .fraction, .exponent: true
            case .minus, .point, .exponentMark, .exponentSign: false
            }
        }
    }

    private enum State {
        /// A value, or (right after `[`) the array's end.
        case value(orClose: Bool)
        /// A member's name, or (right after `{`) the object's end.
        case key(orClose: Bool)
        case colon
        /// A value ended: `,`, the container's end, or (at the top) whitespace only.
        case afterValue
        case string(isKey: Bool)
        case escape(isKey: Bool)
        case unicodeEscape(isKey: Bool, digitsLeft: Int)
        /// Inside a multi-byte UTF-8 character: how many bytes are left, and the range the next one must be in.
        case utf8(isKey: Bool, bytesLeft: Int, lowest: UInt8, highest: UInt8)
        case literal(word: Int, matched: Int)
        case number(Number)
        case invalid
    }

    private static let literals: [[UInt8]] = [Array("true".utf8), Array("false".utf8), Array("null".utf8)]

    private var state = State.value(orClose: false)
    /// The open containers, innermost last: true for an object, false for an array.
    private var open: [Bool] = []

    /// Reads the next piece; false once the bytes so far cannot begin a JSON text (it stays false).
    mutating func feed(_ bytes: some Sequence<UInt8>) -> Bool {
        for byte in bytes {
            step(byte)
            if case .invalid = state { return false }
        }
        return true
    }

    /// Whether the bytes so far are one whole JSON text.
    var isComplete: Bool {
        guard open.isEmpty else { return false }
        switch state {
        case .afterValue: return true
        case .number(let number): return number.isWhole
        default: return false
        }
    }

    private mutating func step(_ byte: UInt8) {
        switch state {
        case .invalid:
            return
        case .value(let orClose):
            if Self.isWhitespace(byte) { return }
            if byte == UInt8(ascii: "]"), orClose { return close() }
            startValue(byte)
        case .key(let orClose):
            if Self.isWhitespace(byte) { return }
            if byte == UInt8(ascii: "\"") {
                state = .string(isKey: true)
            } else if byte == UInt8(ascii: "}"), orClose {
                close()
            } else {
                state = .invalid
            }
        case .colon:
            if Self.isWhitespace(byte) { return }
            state = byte == UInt8(ascii: ":") ? .value(orClose: false) : .invalid
        case .afterValue:
            afterValue(byte)
        case .string(let isKey):
            string(byte, isKey: isKey)
        case .escape(let isKey):
            switch byte {
            case UInt8(ascii: "u"): state = .unicodeEscape(isKey: isKey, digitsLeft: 4)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                UInt8(ascii: "r"), UInt8(ascii: "t"):
                state = .string(isKey: isKey)
            default: state = .invalid
            }
        case .unicodeEscape(let isKey, let digitsLeft):
            guard Self.isHexDigit(byte) else { return state = .invalid }
            state = digitsLeft == 1 ? .string(isKey: isKey) : .unicodeEscape(isKey: isKey, digitsLeft: digitsLeft - 1)
        case .utf8(let isKey, let bytesLeft, let lowest, let highest):
            guard (lowest...highest).contains(byte) else { return state = .invalid }
            state = bytesLeft == 1 ? .string(isKey: isKey) : .utf8(isKey: isKey, bytesLeft: bytesLeft - 1, lowest: 0x80, highest: 0xBF)
        case .literal(let word, let matched):
            let letters = Self.literals[word]
            guard byte == letters[matched] else { return state = .invalid }
            state = matched + 1 == letters.count ? .afterValue : .literal(word: word, matched: matched + 1)
        case .number(let number):
            self.number(number, byte)
        }
    }

    private mutating func startValue(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "{"): openContainer(array: false)
        case UInt8(ascii: "["): openContainer(array: true)
        case UInt8(ascii: "\""): state = .string(isKey: false)
        case UInt8(ascii: "-"): state = .number(.minus)
        case UInt8(ascii: "0"): state = .number(.zero)
        case UInt8(ascii: "1")...UInt8(ascii: "9"): state = .number(.integer)
        case UInt8(ascii: "t"): state = .literal(word: 0, matched: 1)
        case UInt8(ascii: "f"): state = .literal(word: 1, matched: 1)
        case UInt8(ascii: "n"): state = .literal(word: 2, matched: 1)
        default: state = .invalid
        }
    }

    private mutating func afterValue(_ byte: UInt8) {
        if Self.isWhitespace(byte) { return }
        guard let isObject = open.last else { return state = .invalid }
        switch byte {
        case UInt8(ascii: ","): state = isObject ? .key(orClose: false) : .value(orClose: false)
        case UInt8(ascii: "}") where isObject, UInt8(ascii: "]") where !isObject: close()
        default: state = .invalid
        }
    }

    private mutating func string(_ byte: UInt8, isKey: Bool) {
        switch byte {
        case UInt8(ascii: "\""): state = isKey ? .colon : .afterValue
        case UInt8(ascii: "\\"): state = .escape(isKey: isKey)
        case 0..<0x20: state = .invalid
        case 0x20..<0x80: break
        // The lead byte bounds the next one: no overlong forms, no surrogates, nothing past U+10FFFF.
        case 0xC2...0xDF: state = .utf8(isKey: isKey, bytesLeft: 1, lowest: 0x80, highest: 0xBF)
        case 0xE0: state = .utf8(isKey: isKey, bytesLeft: 2, lowest: 0xA0, highest: 0xBF)
        case 0xED: state = .utf8(isKey: isKey, bytesLeft: 2, lowest: 0x80, highest: 0x9F)
        case 0xE1...0xEF: state = .utf8(isKey: isKey, bytesLeft: 2, lowest: 0x80, highest: 0xBF)
        case 0xF0: state = .utf8(isKey: isKey, bytesLeft: 3, lowest: 0x90, highest: 0xBF)
        case 0xF1...0xF3: state = .utf8(isKey: isKey, bytesLeft: 3, lowest: 0x80, highest: 0xBF)
        case 0xF4: state = .utf8(isKey: isKey, bytesLeft: 3, lowest: 0x80, highest: 0x8F)
        default: state = .invalid
        }
    }

    private mutating func number(_ number: Number, _ byte: UInt8) {
        let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        let isExponent = byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        switch number {
        case .minus where byte == UInt8(ascii: "0"): state = .number(.zero)
        case .minus where isDigit: state = .number(.integer)
        case .integer where isDigit: break
        case .zero where byte == UInt8(ascii: "."), .integer where byte == UInt8(ascii: "."): state = .number(.point)
        case .point where isDigit, .fraction where isDigit: state = .number(.fraction)
        case .zero where isExponent, .integer where isExponent, .fraction where isExponent: state = .number(.exponentMark)
        case .exponentMark where byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-"): state = .number(.exponentSign)
        case .exponentMark where isDigit, .exponentSign where isDigit, .exponent where isDigit: state = .number(.exponent)
        case _ where number.isWhole:
            // The byte after a number belongs to what follows it.
            state = .afterValue
            afterValue(byte)
        default:
            state = .invalid
        }
    }

    private mutating func openContainer(array: Bool) {
        guard open.count < Self.maxDepth else { return state = .invalid }
        open.append(!array)
        state = array ? .value(orClose: true) : .key(orClose: true)
    }

    private mutating func close() {
        open.removeLast()
        state = .afterValue
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }
}
