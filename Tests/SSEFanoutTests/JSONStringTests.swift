import Foundation
import Testing

@testable import SSEFanout

@Suite struct JSONStringTests {
    private static let samples = [
        "", "alice", "news/sport", #"say "hi""#, #"back\slash"#, "tab\tnew\nline\r", "\u{08}\u{0C}\u{01}\u{1F}\u{7F}",
        "é ü 日本 🙂", "\u{2028}\u{2029}", "3kTMd92sLq0fQ8ZxYb1e7a",
    ]

    /// What random strings are made of: every control character, the characters JSON escapes, `/`,
    /// DEL, and non-ASCII of every UTF-8 length (combining marks, separators JavaScript minds, emoji).
    private static let alphabet: [Character] =
        (0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }
        + ["\"", "\\", "/", "\u{7F}", "a", "Z", "0", " ", "{", "}", ":", ",", "'", "<", "&", "%"]
        + ["é", "e\u{301}", "ß", "\u{80}", "\u{FF}", "\u{7FF}", "\u{800}", "日", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFF}"]
        + ["🙂", "\u{10000}", "\u{10FFFF}", "👩‍👩‍👧"]

    /// A seeded generator, so that a failure names the strings it was given again.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static func randomStrings(count: Int, seed: UInt64) -> [String] {
        var random = SplitMix64(state: seed)
        return (0..<count).map { _ in
            let length = Int.random(in: 0...24, using: &random)
            return String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
        }
    }

    @Test(arguments: [false, true])
    func randomStringsParseBackAndMatchFoundationsEscaping(escapingSlashes: Bool) throws {
        for text in Self.randomStrings(count: 3000, seed: escapingSlashes ? 2 : 1) {
            var bytes: [UInt8] = []
            JSONString.append(text, to: &bytes, escapingSlashes: escapingSlashes)
            var string = ""
            JSONString.append(text, to: &string, escapingSlashes: escapingSlashes)
            // Both entry points write the same.
            #expect(Array(string.utf8) == bytes, "\(text.debugDescription)")

            let parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? String
            #expect(parsed.map { Array($0.utf8) } == Array(text.utf8), "\(text.debugDescription) parsed back as \(parsed.debugDescription)")

            let foundation =
                escapingSlashes
                ? try JSONEncoder().encode(text)
                : try JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])
            // Foundation's writers leave U+FEFF as it is; ours escapes it (see `JSONString`).
            let expected = Array(foundation).replacing([0xEF, 0xBB, 0xBF], with: Array(#"\ufeff"#.utf8))
            #expect(bytes == expected, "\(text.debugDescription): \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func escapesControlCharactersAsFoundationDoes() {
        #expect(JSONString.quoted("\u{08}\u{0C}\n\r\t") == #""\b\f\n\r\t""#)
        #expect(JSONString.quoted("\u{00}\u{01}\u{1B}\u{1F}") == #""\u0000\u0001\u001b\u001f""#)
        #expect(JSONString.quoted("a/b \"q\" \\ \u{7F} é") == "\"a/b \\\"q\\\" \\\\ \u{7F} é\"")
        var slashed = ""
        JSONString.append("a/b", to: &slashed, escapingSlashes: true)
        #expect(slashed == #""a\/b""#)
    }

    /// JSONSerialization reads a U+FEFF that starts a string or follows an escape as a byte order mark.
    @Test func escapesTheByteOrderMarkSoThatJSONSerializationKeepsIt() throws {
        for text in ["\u{FEFF}", "a\u{FEFF}b", "\n\u{FEFF}", "\u{FEFF}\u{FEFF}", "\u{FEFE}\u{FFEF}"] {
            let quoted = JSONString.quoted(text)
            let parsed = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: [.fragmentsAllowed]) as? String
            #expect(parsed.map { Array($0.unicodeScalars) } == Array(text.unicodeScalars), "\(quoted)")
        }
        #expect(JSONString.quoted("\n\u{FEFF}") == #""\n\ufeff""#)
        #expect(JSONString.quoted("\u{FEFE}") == "\"\u{FEFE}\"")
    }

    @Test func writesArraysAsJSONEncoderDoes() throws {
        for strings in [[], ["news"], Self.samples] {
            var out = ""
            JSONString.appendArray(strings, to: &out, escapingSlashes: true)
            #expect(Array(out.utf8) == Array(try JSONEncoder().encode(strings)))
        }
    }

    @Test func writesArraysAsJSONSerializationDoes() throws {
        var out = ""
        JSONString.appendArray(Self.samples, to: &out)
        let expected = try JSONSerialization.data(withJSONObject: Self.samples, options: [.withoutEscapingSlashes])
        #expect(Array(out.utf8) == Array(expected))
    }

    @Test func theBodiesForwardToTheOneEscaper() {
        var body = ""
        JSONString.append("a/\u{08}", to: &body, escapingSlashes: true)
        JSONString.appendArray(["x\n"], to: &body)
        #expect(body == #""a\/\b"["x\n"]"#)
    }
}
