import Foundation
import Testing

@testable import SSEFanout

@Suite struct JSONBodyTests {
    private static let samples = [
        "", "alice", "news/sport", #"say "hi""#, #"back\slash"#, "tab\tnew\nline\r", "\u{08}\u{0C}\u{01}\u{1F}\u{7F}",
        "é ü 日本 🙂", "\u{2028}\u{2029}", "3kTMd92sLq0fQ8ZxYb1e7a",
    ]

    @Test func writesStringsAsJSONSerializationDoes() throws {
        for sample in Self.samples {
            var out = ""
            JSONBody.appendString(sample, to: &out)
            let expected = try JSONSerialization.data(withJSONObject: sample, options: [.fragmentsAllowed, .withoutEscapingSlashes])
            #expect(Array(out.utf8) == Array(expected), "\(sample.debugDescription)")
        }
    }

    @Test func writesArraysAsJSONEncoderDoes() throws {
        for strings in [[], ["news"], Self.samples] {
            var out = ""
            JSONBody.appendStrings(strings, to: &out, escapingSlashes: true)
            #expect(Array(out.utf8) == Array(try JSONEncoder().encode(strings)))
        }
    }

    @Test func writesArraysAsJSONSerializationDoes() throws {
        var out = ""
        JSONBody.appendStrings(Self.samples, to: &out)
        let expected = try JSONSerialization.data(withJSONObject: Self.samples, options: [.withoutEscapingSlashes])
        #expect(Array(out.utf8) == Array(expected))
    }
}
