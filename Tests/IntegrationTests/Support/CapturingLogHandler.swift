import Logging
import NIOConcurrencyHelpers

/// A log handler that keeps every line (message and metadata, as text), to check what a node logs.
struct CapturingLogHandler: LogHandler {
    final class Lines: Sendable {
        private let lines = NIOLockedValueBox<[String]>([])
        func append(_ line: String) { lines.withLockedValue { $0.append(line) } }
        var all: [String] { lines.withLockedValue { $0 } }
    }

    let lines: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        let all = self.metadata.merging(metadata ?? [:]) { $1 }
        lines.append("\(level) \(message) \(all.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))")
    }
}
