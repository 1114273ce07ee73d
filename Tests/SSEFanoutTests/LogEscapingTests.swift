import Logging
import NIOConcurrencyHelpers
import Testing

@testable import SSEFanout

/// Nothing from outside forges or disguises a log line.
@Suite struct LogEscapingTests {
    /// Keeps what the wrapped handler was given.
    private struct Capture: LogHandler {
        let lines: NIOLockedValueBox<[String]>
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let fields = (metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.withLockedValue { $0.append("\(message) \(fields)") }
        }
    }

    @Test func separatorsControlsAndFormatCharactersAreEscaped() {
        #expect(EscapingLogHandler.escape("plain ascii") == "plain ascii")
        #expect(EscapingLogHandler.escape("a\nb") == "a\\u{A}b")
        #expect(EscapingLogHandler.escape("a\u{2028}forged line") == "a\\u{2028}forged line")
        #expect(EscapingLogHandler.escape("a\u{2029}b") == "a\\u{2029}b")
        #expect(EscapingLogHandler.escape("user\u{202E}nimda") == "user\\u{202E}nimda")
        #expect(EscapingLogHandler.escape("ad\u{200B}min") == "ad\\u{200B}min")
        #expect(EscapingLogHandler.escape("\u{FEFF}x\u{1B}[31m") == "\\u{FEFF}x\\u{1B}[31m")
        #expect(EscapingLogHandler.escape("日本 é") == "日本 é")
    }

    @Test func theHandlerEscapesMessagesAndEveryMetadataValue() {
        let lines = NIOLockedValueBox<[String]>([])
        let logger = Logger(label: "test") { _ in EscapingLogHandler(wrapping: Capture(lines: lines)) }
        logger.info("user\u{2028}admin logged in", metadata: ["user": "\("mallory\u{202E}")", "list": .array(["a\nb"])])
        let line = lines.withLockedValue { $0 }.first ?? ""
        #expect(line.contains("user\\u{2028}admin logged in"))
        #expect(line.contains("mallory\\u{202E}"))
        #expect(line.contains("u{A}b"))
        #expect(!line.unicodeScalars.contains { $0.value == 0x2028 || $0.value == 0x202E || $0 == "\n" })
    }
}
