import NIOConcurrencyHelpers

@testable import SSEFanout

/// A registry for `RegistrationQueue` tests: records every batch of writes it is given, fails the
/// writes of the connections named in `failing`, and can hold its first batch until `release()`.
final class RecordingRegistry: Registry {
    struct Failure: Error, Equatable {
        var connectionID: String
    }

    private struct State {
        var batches: [[RegistryWrite]] = []
        var held: CheckedContinuation<Void, Never>?
    }

    private let failing: Set<String>
    private let holdsFirstBatch: Bool
    private let state = NIOLockedValueBox(State())
    private let firstBatch: AsyncStream<Void>.Continuation
    /// Yields once the first batch has arrived (and, when held, is waiting for `release()`).
    let firstBatchArrived: AsyncStream<Void>

    init(failing: Set<String> = [], holdsFirstBatch: Bool = false) {
        self.failing = failing
        self.holdsFirstBatch = holdsFirstBatch
        (firstBatchArrived, firstBatch) = AsyncStream.makeStream(of: Void.self)
    }

    var batches: [[RegistryWrite]] { state.withLockedValue { $0.batches } }

    func release() {
        state.withLockedValue { state in
            defer { state.held = nil }
            return state.held
        }?.resume()
    }

    func apply(_ writes: [RegistryWrite]) async -> [(any Error)?] {
        let isFirst = state.withLockedValue { state in
            state.batches.append(writes)
            return state.batches.count == 1
        }
        if isFirst {
            if holdsFirstBatch {
                await withCheckedContinuation { held in
                    state.withLockedValue { $0.held = held }
                    firstBatch.yield()
                }
            } else {
                firstBatch.yield()
            }
        }
        return writes.map { write in
            let record = switch write {
            case .register(let record, _), .unregister(let record, _): record
            }
            return failing.contains(record.connectionID) ? Failure(connectionID: record.connectionID) : nil
        }
    }

    func register(_ connection: ConnectionRecord, joinedChannels: [String]) async throws {
        _ = await apply([.register(connection, joinedChannels: joinedChannels)])
    }

    func unregister(_ connection: ConnectionRecord, leftChannels: [String]) async throws {
        _ = await apply([.unregister(connection, leftChannels: leftChannels)])
    }

    func registerNode(_ node: NodeRecord, lease: Duration) async throws -> Bool { true }
    func unregisterNode(_ nodeID: String) async throws {}
    func liveNodes() async throws -> [String] { [] }
    func expiredNodes(before grace: Duration) async throws -> [String] { [] }
    func removeEntries(ofNode nodeID: String) async throws {}
    func nodes(for target: Target) async throws -> Set<String> { [] }
    func checkReady() async throws {}
}
