import SSEFanout
import Testing

/// The registries the contract suites run against (`RegistryContractTests`, `PresenceContractTests`):
/// the same tests, the same answers.
enum RegistryKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inProcess
    case redis

    var testDescription: String { rawValue }

    /// A fresh, empty registry; Redis ones get a key prefix of their own, dropped by `close`.
    func make() throws -> TestRegistry {
        switch self {
        case .inProcess:
            return TestRegistry(store: InProcessRegistry(), redis: nil, prefix: "")
        case .redis:
            let prefix = TestRegistry.uniquePrefix("sse-registry")
            let client = try Producer.redis()
            return TestRegistry(store: RedisRegistry(client: client, keys: RedisKeys(prefix: prefix)), redis: client, prefix: prefix)
        }
    }
}

typealias TestRegistry = TestStore<any Registry>

extension TestStore where Store == any Registry {
    var registry: any Registry { store }
}
