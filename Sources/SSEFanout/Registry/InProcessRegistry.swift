import NIOConcurrencyHelpers
import NIOCore

/// The registry kept in this process: for the standalone mode (one node) and unit tests.
public final class InProcessRegistry: Registry {
    fileprivate struct State {
        var nodes: [String: (record: NodeRecord, expires: NIODeadline)] = [:]
        var connections: [String: ConnectionRecord] = [:]
        var channelNodes: [String: Set<String>] = [:]
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

    public func register(_ connection: ConnectionRecord, joinedChannels: [String]) async throws {
        state.withLockedValue { state in
            state.connections[connection.connectionID] = connection
            for channel in joinedChannels { state.channelNodes[channel, default: []].insert(connection.nodeID) }
        }
    }

    public func unregister(_ connection: ConnectionRecord, leftChannels: [String]) async throws {
        state.withLockedValue { state in
            state.connections.removeValue(forKey: connection.connectionID)
            for channel in leftChannels { state.removeChannel(channel, node: connection.nodeID) }
        }
    }

    public func removeEntries(ofNode nodeID: String) async throws {
        state.withLockedValue { state in
            state.connections = state.connections.filter { $0.value.nodeID != nodeID }
            for channel in state.channelNodes.keys { state.removeChannel(channel, node: nodeID) }
        }
    }

    public func nodes(for target: Target) async throws -> Set<String> {
        switch target {
        case .broadcast:
            return Set(try await liveNodes())
        case .connection(let id):
            return state.withLockedValue { $0.connections[id].map { [$0.nodeID] } ?? [] }
        case .user(let user):
            return state.withLockedValue { Set($0.connections.values.filter { $0.user == user }.map(\.nodeID)) }
        case .channel(let name):
            return state.withLockedValue { $0.channelNodes[name] ?? [] }
        }
    }

    public func checkReady() async throws {}

    /// Every connection currently recorded; for tests.
    public var connections: [ConnectionRecord] { state.withLockedValue { Array($0.connections.values) } }
}

extension InProcessRegistry.State {
    fileprivate mutating func removeChannel(_ channel: String, node: String) {
        channelNodes[channel]?.remove(node)
        if channelNodes[channel]?.isEmpty == true { channelNodes.removeValue(forKey: channel) }
    }
}
