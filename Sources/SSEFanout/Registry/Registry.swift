/// Who is connected where, cluster-wide: which node holds each connection, each user's connections,
/// which nodes have subscribers of each channel, and which nodes are alive.
/// `RedisRegistry` is the real one; `InProcessRegistry` serves the standalone mode and unit tests.
public protocol Registry: Sendable {
    /// Records (or renews) this node with a lease; the entry vanishes if not renewed within `lease`.
    /// Returns whether the entry was still there: false after a Redis restart or `FLUSHALL`, when the
    /// node must register its live connections again.
    @discardableResult
    func registerNode(_ node: NodeRecord, lease: Duration) async throws -> Bool
    func unregisterNode(_ nodeID: String) async throws
    /// Node ids whose lease is current.
    func liveNodes() async throws -> [String]
    /// Node ids whose lease ran out at least `grace` ago without being renewed or removed: nodes that died.
    func expiredNodes(before grace: Duration) async throws -> [String]

    /// Records a connection; `joinedChannels` are the channels its node now has a first subscriber for.
    func register(_ connection: ConnectionRecord, joinedChannels: [String]) async throws
    /// Removes exactly this connection's entries; `leftChannels` are the channels its node no longer has subscribers for.
    func unregister(_ connection: ConnectionRecord, leftChannels: [String]) async throws
    /// Applies `writes` in order, in one round trip where the store allows, then calls `completion`
    /// with each one's error (nil when it was applied), in the same order, on a thread of the
    /// registry's choosing; `completion` must not block. A write that fails does not stop the others.
    func apply(_ writes: [RegistryWrite], completion: @escaping @Sendable ([(any Error)?]) -> Void)
    /// Removes every entry a node left behind (its connections and channel memberships).
    func removeEntries(ofNode nodeID: String) async throws

    /// The nodes holding connections that `target` names. For `.broadcast`, the live nodes.
    func nodes(for target: Target) async throws -> Set<String>
    /// `nodes(for:)` of each target, in order, looked up together.
    func nodes(for targets: [Target]) async throws -> [Set<String>]
    /// `nodes(for:)` of each target for callers that do not await: `completion` runs on a thread of
    /// the registry's choosing (for Redis, the client's thread), so it must not block.
    func nodes(for targets: [Target], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void)

    /// Throws, with the reason, while the registry's store is unreachable.
    func checkReady() async throws
}

extension Registry {
    public func nodes(for targets: [Target]) async throws -> [Set<String>] {
        var nodes: [Set<String>] = []
        nodes.reserveCapacity(targets.count)
        for target in targets { nodes.append(try await self.nodes(for: target)) }
        return nodes
    }

    /// In a task: for registries without a thread of their own to answer on.
    public func nodes(for targets: [Target], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void) {
        Task {
            do {
                completion(.success(try await nodes(for: targets)))
            } catch {
                completion(.failure(error))
            }
        }
    }

    /// One write after the other, in a task: for registries without round trips to save.
    public func apply(_ writes: [RegistryWrite], completion: @escaping @Sendable ([(any Error)?]) -> Void) {
        Task {
            var failures: [(any Error)?] = []
            failures.reserveCapacity(writes.count)
            for write in writes {
                do {
                    switch write {
                    case .register(let record, let joined): try await register(record, joinedChannels: joined)
                    case .unregister(let record, let left): try await unregister(record, leftChannels: left)
                    }
                    failures.append(nil)
                } catch {
                    failures.append(error)
                }
            }
            completion(failures)
        }
    }
}
