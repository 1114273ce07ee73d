import NIOConcurrencyHelpers

@testable import SSEFanout

/// A registry for `RegistrationQueue` tests: records every batch of writes it is given, fails the
/// writes of the connections named in `failing`, and can hold its first batch until `release()`.
/// Other batches complete at once, on the caller's thread.
final class RecordingRegistry: Registry {
    struct Failure: Error, Equatable {
        var connectionID: String
    }

    private struct State {
        var batches: [[RegistryWrite]] = []
        var held: (@Sendable () -> Void)?
    }

    private let failing: Set<String>
    private let holdsFirstBatch: Bool
    private let state = NIOLockedValueBox(State())

    init(failing: Set<String> = [], holdsFirstBatch: Bool = false) {
        self.failing = failing
        self.holdsFirstBatch = holdsFirstBatch
    }

    var batches: [[RegistryWrite]] { state.withLockedValue { $0.batches } }

    /// Completes the held first batch.
    func release() {
        state.withLockedValue { state in
            defer { state.held = nil }
            return state.held
        }?()
    }

    func apply(_ writes: [RegistryWrite], completion: @escaping @Sendable ([Result<PresenceChange, any Error>]) -> Void) {
        let failures: [Result<PresenceChange, any Error>] = writes.map { write in
            let record = switch write {
            case .register(let record, _), .unregister(let record, _): record
            }
            return failing.contains(record.connectionID) ? .failure(Failure(connectionID: record.connectionID)) : .success(.unchanged)
        }
        let isHeld = state.withLockedValue { state in
            state.batches.append(writes)
            guard holdsFirstBatch, state.batches.count == 1 else { return false }
            state.held = { completion(failures) }
            return true
        }
        if !isHeld { completion(failures) }
    }

    func registerNode(_ node: NodeRecord, lease: Duration) async throws -> Bool { true }
    func unregisterNode(_ nodeID: String) async throws {}
    func liveNodes() async throws -> [String] { [] }
    func expiredNodes(before grace: Duration) async throws -> [String] { [] }
    func removeEntries(ofNode nodeID: String, expiredFor: Duration?) async throws -> [RemovedConnection] { [] }
    func onlineUsers(tenant: String, channel: String?, after: String?, limit: Int) async throws -> PresencePage<OnlineUser> {
        PresencePage(items: [], next: nil)
    }
    func userPresence(_ user: String, tenant: String, limit: Int) async throws -> UserPresence {
        UserPresence(user: user, tenant: tenant, onlineSince: nil, connections: [])
    }
    func connections(_ filter: ConnectionFilter, after: String?, limit: Int) async throws -> PresencePage<ConnectionRecord> {
        PresencePage(items: [], next: nil)
    }
    func nodes(for addresses: [Address], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void) {
        completion(.success(addresses.map { _ in [] }))
    }
    func connections(ofNode nodeID: String) async throws -> [ConnectionRecord] { [] }
    func connection(_ connectionID: String) async throws -> ConnectionRecord? { nil }
    func saveBar(_ key: String, body: [UInt8], until: Int64) async throws {}
    func loadBars() async throws -> [[UInt8]] { [] }
    func nodeStatuses(limit: Int) async throws -> [NodeStatus] { [] }
    func channels(tenant: String, prefix: String, cursor: String?, limit: Int) async throws -> PresencePage<ChannelSummary> {
        PresencePage(items: [], next: nil)
    }
    func checkReady() async throws {}
}
