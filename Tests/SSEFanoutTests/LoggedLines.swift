import Logging
import NIOConcurrencyHelpers

/// Keeps each line as its message and metadata.
struct LoggedLines: LogHandler {
    private let box = NIOLockedValueBox<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var all: [String] { box.withLockedValue { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let fields = (metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted()
        box.withLockedValue { $0.append(([message.description] + fields).joined(separator: " ")) }
    }
}
