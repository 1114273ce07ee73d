import Foundation
import Testing

@testable import SSEFanout

/// A send's body is checked for JSON as it streams to the backend: the same verdict whole or in
/// pieces cut anywhere, and the same as Foundation's parser on ordinary bodies.
@Suite struct JSONStreamValidatorTests {
    static let valid = [
        "{}", "[]", "0", "-0", "12.5e-3", "1E+2", "-10.25", "true", "false", "null", #""""#, #""a\"b\\c\/\b\f\n\r\t""#,
        #""\u00e9\uD83D\uDE00""#, "\"caf\u{e9} \u{1F600} \u{4E2D}\"", #"  {"text": "hi", "n": [1, 2.5, -3e2], "ok": true, "none": null}  "#,
        #"{"a": {"b": {"c": [[], {}, [{}]]}}}"#, "[1,[2,[3,[4]]]]", "\n\t\r [ 1 ] \n",
    ]

    static let invalid = [
        "", " ", "{", "}", "[", "]", "{]", "[}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{a: 1}", "{\"a\": 1,}", "[1,]", "[,1]", "[1 2]",
        "01", "1.", ".5", "-", "1e", "1e+", "+1", "0x10", "tru", "truee", "nul", "True", "NaN", "Infinity", "\"abc", "\"a\\x\"",
        "\"\\u12g4\"", "\"tab\there\"", "1 2", "{} {}", "[] x", "'a'", "\"\u{7F}\"x",
    ]

    private func verdict(_ text: [UInt8], piecesOf size: Int) -> Bool {
        var validator = JSONStreamValidator()
        var index = 0
        while index < text.count {
            guard validator.feed(text[index..<min(index + size, text.count)]) else { return false }
            index += size
        }
        return validator.isComplete
    }

    @Test func wholeTextsAreValidAndTheRestIsNot() {
        for text in Self.valid {
            #expect(verdict(Array(text.utf8), piecesOf: max(text.utf8.count, 1)), "\(text)")
        }
        for text in Self.invalid {
            #expect(!verdict(Array(text.utf8), piecesOf: max(text.utf8.count, 1)), "\(text)")
        }
    }

    @Test func theVerdictDoesNotDependOnWhereTheBodyIsCut() {
        for text in Self.valid + Self.invalid {
            let bytes = Array(text.utf8)
            let whole = verdict(bytes, piecesOf: max(bytes.count, 1))
            for size in 1...max(bytes.count, 1) {
                #expect(verdict(bytes, piecesOf: size) == whole, "\(text) in pieces of \(size)")
            }
        }
    }

    /// Foundation's parser takes these; RFC 8259 does not, nor would a strict consumer of the message
    /// `sse.upstream` carries, which embeds a send's body as it came.
    static let foundationTakes: Set = ["{\"a\": 1,}", "[1,]"]

    @Test func itAgreesWithFoundationOnOrdinaryBodies() {
        for text in Self.valid + Self.invalid where !Self.foundationTakes.contains(text) {
            let foundation = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil
            #expect(verdict(Array(text.utf8), piecesOf: 3) == foundation, "\(text)")
        }
    }

    @Test func stringsMustBeUTF8() {
        let quoted = { (bytes: [UInt8]) in [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")] }
        #expect(verdict(quoted([0xC3, 0xA9]), piecesOf: 1))
        #expect(verdict(quoted([0xF0, 0x9F, 0x98, 0x80]), piecesOf: 1))
        // A lone continuation byte, a cut character, an overlong form, a surrogate, past U+10FFFF.
        for bad: [UInt8] in [[0x80], [0xC3], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF]] {
            #expect(!verdict(quoted(bad), piecesOf: 1), "\(bad)")
        }
        // A byte order mark is not part of a JSON text.
        #expect(!verdict([0xEF, 0xBB, 0xBF] + Array("{}".utf8), piecesOf: 2))
    }

    @Test func nestingIsBounded() {
        let depth = JSONStreamValidator.maxDepth
        #expect(verdict(Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8), piecesOf: 64))
        #expect(!verdict(Array((String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)).utf8), piecesOf: 64))
    }

    @Test func aRefusedTextStaysRefused() {
        var validator = JSONStreamValidator()
        let first = validator.feed(Array("{x".utf8))
        let second = validator.feed(Array("}".utf8))
        #expect(!first && !second && !validator.isComplete)
    }
}
