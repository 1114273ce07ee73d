import SSEFanout
import Testing

/// The histories `HistoryContractTests` runs against: the same tests, the same answers.
enum HistoryKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inProcess
    case redis

    var testDescription: String { rawValue }

    /// A fresh, empty history keeping what `retention` says; Redis ones get a key prefix of their own,
    /// dropped by `close`.
    func make(_ retention: HistoryRetention = HistoryRetention()) throws -> TestHistory {
        switch self {
        case .inProcess:
            return TestHistory(store: InProcessHistory(retention: retention), redis: nil, prefix: "")
        case .redis:
            let prefix = TestHistory.uniquePrefix("sse-history")
            let client = try Producer.redis()
            return TestHistory(store: RedisHistory(client: client, keyPrefix: prefix, retention: retention), redis: client, prefix: prefix)
        }
    }
}

typealias TestHistory = TestStore<any History>

extension TestStore where Store == any History {
    var history: any History { store }
}
