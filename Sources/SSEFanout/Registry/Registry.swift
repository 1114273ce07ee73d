/// Who is connected where, cluster-wide: which node holds each connection, which nodes have streams
/// for each address (user, session, device, tenant, channel), which nodes are alive, and who is
/// online (`Presence`), and what the admin page lists (`ClusterDirectory`). `RedisRegistry` is the real one; `InProcessRegistry` serves the standalone
/// mode and unit tests.
///
/// The stream path (`apply`) and the publish path (`nodes(for:completion:)`) take a completion, which
/// must not block: no task sits in either path. A completion never runs inside the call it was handed
/// to, so a caller holding a lock or on an event loop cannot deadlock or re-enter; beyond that, where
/// it runs is the registry's choice (`RedisRegistry`: the caller's event loop, or the first loop for a caller
/// on none; `InProcessRegistry`: a task). The rest is the node's housekeeping, once per lease interval, and is async.
/// `RegistryContractTests` holds both registries to this protocol, `PresenceContractTests` to `Presence`.
public protocol Registry: Presence, ClusterDirectory {
    /// Records (or renews) this node with a lease; the entry vanishes if not renewed within `lease`.
    /// Returns whether the entry was still there: false after a Redis restart or `FLUSHALL`, when the
    /// node must register its live connections again.
    @discardableResult
    func registerNode(_ node: NodeRecord, lease: Duration) async throws -> Bool
    func unregisterNode(_ nodeID: String) async throws
    /// Node ids whose lease is current, sorted.
    func liveNodes() async throws -> [String]
    /// Node ids whose lease ran out at least `grace` ago without being renewed or removed: nodes that
    /// died, sorted.
    func expiredNodes(before grace: Duration) async throws -> [String]
    /// Removes every entry a node left behind (its connections and address memberships) and returns
    /// the connections it removed, each with what its removal changed (offline, vacated). Each
    /// connection is removed, and reported, by exactly one caller, however many remove the same node
    /// at once: the callers publish what they were given.
    ///
    /// With `expiredFor`, a reaper's call: nothing is removed unless the node's lease ran out at least
    /// that long ago, checked together with each removal, so that a node restarting under the same id
    /// meanwhile keeps its new connections.
    @discardableResult
    func removeEntries(ofNode nodeID: String, expiredFor: Duration?) async throws -> [RemovedConnection]

    /// Applies `writes` in order, in one round trip where the store allows, then calls `completion`
    /// with each one's outcome, in the same order: what it changed cluster-wide (a user's first or last
    /// connection, a channel's first or last subscriber), or its error. A write that fails does not
    /// stop the others. `completion` never runs inside this call (see the protocol).
    func apply(_ writes: [RegistryWrite], completion: @escaping @Sendable ([Result<PresenceChange, any Error>]) -> Void)
    /// The nodes holding streams each address names, in order, looked up together: those that
    /// registered a connection with the address among its `joined` and have not left it since. For a
    /// connection id: its node; for `broadcast`: the live nodes. `completion` never runs inside this
    /// call (see the protocol).
    func nodes(for addresses: [Address], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void)

    /// The records of the connections the registry says a node holds. A node compares them with what
    /// it really holds after an outage (`RegistryRepair.reconcile`).
    func connections(ofNode nodeID: String) async throws -> [ConnectionRecord]
    /// The record of one connection, wherever it is; nil when no such connection is registered. A send
    /// that names its connection (`X-SSE-Connection`) is checked against it.
    func connection(_ connectionID: String) async throws -> ConnectionRecord?

    /// Keeps a kick's bar (its control message) until `until` (ms since 1970), for nodes that start
    /// later; a bar saved again under the same key replaces the first.
    func saveBar(_ key: String, body: [UInt8], until: Int64) async throws
    /// Every bar still in force, in no particular order.
    func loadBars() async throws -> [[UInt8]]

    /// Throws, with the reason, while the registry's store is unreachable, or not reached yet (a
    /// Redis client connects with its first command).
    func checkReady() async throws
}

extension Registry {
    /// Removes every entry a node left behind, whatever its lease (its own cleanup, at start and stop).
    @discardableResult
    public func removeEntries(ofNode nodeID: String) async throws -> [RemovedConnection] {
        try await removeEntries(ofNode: nodeID, expiredFor: nil)
    }

    /// `apply`, awaited.
    public func apply(_ writes: [RegistryWrite]) async -> [Result<PresenceChange, any Error>] {
        await withCheckedContinuation { continuation in
            apply(writes) { continuation.resume(returning: $0) }
        }
    }

    /// Records a connection; `joined` are the addresses its node now has a first stream for.
    @discardableResult
    public func register(_ connection: ConnectionRecord, joined: [Address]) async throws -> PresenceChange {
        try await apply([.register(connection, joined: joined)])[0].get()
    }

    /// Removes exactly this connection's entries; `left` are the addresses its node has no stream for any more.
    @discardableResult
    public func unregister(_ connection: ConnectionRecord, left: [Address]) async throws -> PresenceChange {
        try await apply([.unregister(connection, left: left)])[0].get()
    }

    /// `nodes(for:completion:)`, awaited.
    public func nodes(for addresses: [Address]) async throws -> [Set<String>] {
        try await withCheckedThrowingContinuation { continuation in
            nodes(for: addresses) { continuation.resume(with: $0) }
        }
    }

    public func nodes(for address: Address) async throws -> Set<String> {
        try await nodes(for: [address])[0]
    }
}
