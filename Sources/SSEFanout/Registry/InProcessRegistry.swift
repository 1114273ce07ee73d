import NIOConcurrencyHelpers
import NIOCore

/// The registry kept in this process: for the standalone mode (one node) and unit tests.
public final class InProcessRegistry: Registry {
    fileprivate struct State {
        var nodes: [String: (record: NodeRecord, expires: NIODeadline)] = [:]
        var connections: [String: ConnectionRecord] = [:]
        /// Address → nodes with streams for it.
        var addressNodes: [Address: Set<String>] = [:]
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    public func registerNode(_ node: NodeRecord, lease: Duration) async throws -> Bool {
        let now = NIODeadline.now()
        return state.withLockedValue { state in
            let present = state.nodes[node.nodeID].map { $0.expires > now } ?? false
            state.nodes[node.nodeID] = (node, now + TimeAmount(lease))
            return present
        }
    }

    public func unregisterNode(_ nodeID: String) async throws {
        _ = state.withLockedValue { $0.nodes.removeValue(forKey: nodeID) }
    }

    public func liveNodes() async throws -> [String] {
        let now = NIODeadline.now()
        return state.withLockedValue { $0.nodes.filter { $0.value.expires > now }.map(\.key).sorted() }
    }

    public func expiredNodes(before grace: Duration) async throws -> [String] {
        let cutoff = NIODeadline.now() - TimeAmount(grace)
        return state.withLockedValue { $0.nodes.filter { $0.value.expires <= cutoff }.map(\.key).sorted() }
    }

    /// Answers from a task, like a store on another thread would: callers never see their completion
    /// run inside their own call.
    public func apply(_ writes: [RegistryWrite], completion: @escaping @Sendable ([(any Error)?]) -> Void) {
        state.withLockedValue { state in
            for write in writes {
                switch write {
                case .register(let connection, let joined):
                    state.connections[connection.connectionID] = connection
                    for address in joined { state.addressNodes[address, default: []].insert(connection.nodeID) }
                case .unregister(let connection, let left):
                    state.connections.removeValue(forKey: connection.connectionID)
                    for address in left { state.removeAddress(address, node: connection.nodeID) }
                }
            }
        }
        Task { completion(writes.map { _ in nil }) }
    }

    public func removeEntries(ofNode nodeID: String) async throws {
        state.withLockedValue { state in
            state.connections = state.connections.filter { $0.value.nodeID != nodeID }
            for address in state.addressNodes.keys { state.removeAddress(address, node: nodeID) }
        }
    }

    public func nodes(for addresses: [Address], completion: @escaping @Sendable (Result<[Set<String>], any Error>) -> Void) {
        let now = NIODeadline.now()
        let found = state.withLockedValue { state in
            addresses.map { address -> Set<String> in
                switch address.kind {
                case .broadcast: Set(state.nodes.filter { $0.value.expires > now }.map(\.key))
                case .connection: state.connections[address.id].map { [$0.nodeID] } ?? []
                default: state.addressNodes[address] ?? []
                }
            }
        }
        Task { completion(.success(found)) }
    }

    /// Bars live in this node's own memory (`KickBars`) in the standalone mode: nothing to keep.
    public func saveBar(_ key: String, body: [UInt8], until: Int64) async throws {}
    public func loadBars() async throws -> [[UInt8]] { [] }

    public func checkReady() async throws {}

    /// Every connection currently recorded; for tests.
    public var connections: [ConnectionRecord] { state.withLockedValue { Array($0.connections.values) } }
}

extension InProcessRegistry.State {
    fileprivate mutating func removeAddress(_ address: Address, node: String) {
        addressNodes[address]?.remove(node)
        if addressNodes[address]?.isEmpty == true { addressNodes.removeValue(forKey: address) }
    }
}
