import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// This node's open streams, sharded by event loop. Delivery encodes an event once and hands the
/// shared bytes to the loops that hold its streams, each of which writes them to its own connections:
/// an event for one stream wakes one loop, and an event none of the node's streams wants costs a lookup.
public final class LocalHub: Sendable {
    private let shards: [HubShard]
    private let logger: Logger
    /// Node-wide open streams per address (user, session, device, tenant, channel), and the loops they
    /// are on: the registry hears only of an address's first stream here and its last, a stale route
    /// (the target left) shows, and delivery wakes only those loops.
    private let holders = NIOLockedValueBox<[Address: StreamHolders]>([:])
    private let total = NIOLockedValueBox(0)

    public convenience init(
        eventLoopGroup: EventLoopGroup, heartbeatInterval: TimeAmount, writeDelay: TimeAmount = .zero, pacing: Bool = true,
        pacingBudget: TimeAmount = .milliseconds(100), logger: Logger, metrics: NodeMetrics? = nil
    ) {
        self.init(
            eventLoops: Array(eventLoopGroup.makeIterator()), heartbeatInterval: heartbeatInterval, writeDelay: writeDelay, pacing: pacing,
            pacingBudget: pacingBudget, logger: logger, metrics: metrics)
    }

    init(
        eventLoops: [EventLoop], heartbeatInterval: TimeAmount, writeDelay: TimeAmount = .zero, pacing: Bool = true,
        pacingBudget: TimeAmount = .milliseconds(100), logger: Logger, metrics: NodeMetrics? = nil
    ) {
        self.logger = logger
        let comment = SSEEncoder.comment("heartbeat")
        self.shards = eventLoops.enumerated().map { index, loop in
            let shard = HubShard(
                index: index, eventLoop: loop, writeDelay: writeDelay, load: pacing ? LoopLoad() : .neverBusy, pacingBudget: pacingBudget,
                logger: logger, metrics: metrics)
            loop.execute {
                shard.startHeartbeat(every: heartbeatInterval, comment: comment)
                shard.startExpirySweep { Int64(Date().timeIntervalSince1970 * 1000) }
            }
            return shard
        }
    }

    /// Open streams on this node.
    public var connectionCount: Int { total.withLockedValue { $0 } }

    /// Addresses with at least one local stream.
    public var addresses: [Address] { holders.withLockedValue { Array($0.keys) } }

    /// A new stream's connection id, which names the loop it opens on (`ConnectionID.next(shard:)`), so
    /// an event for it goes to that loop alone.
    func newConnectionID(on loop: EventLoop) -> String {
        ConnectionID.next(shard: shard(for: loop).index)
    }

    /// Adds a connection on its own loop. `onTransition` runs under the hub's lock with the addresses
    /// this connection is the first local stream of, so registry updates are issued in order.
    func add(_ connection: SSEConnection, onTransition: ([Address]) -> Void) {
        let shard = shard(for: connection.eventLoop)
        shard.add(connection)
        total.withLockedValue { $0 += 1 }
        holders.withLockedValue { holders in
            var joined: [Address] = []
            for address in connection.addresses {
                holders[address, default: StreamHolders()].added(onShard: shard.index)
                if holders[address]?.streams == 1 { joined.append(address) }
            }
            onTransition(joined)
        }
    }

    /// Removes a connection on its own loop; `onTransition` gets the addresses it was the last local
    /// stream of.
    func remove(_ connection: SSEConnection, onTransition: ([Address]) -> Void) {
        let shard = shard(for: connection.eventLoop)
        guard shard.remove(connection) else { return }
        total.withLockedValue { $0 -= 1 }
        holders.withLockedValue { holders in
            var left: [Address] = []
            for address in connection.addresses {
                // Read on the shard's own loop, and the shard's adds and removes all run there: the
                // hub's view of each shard changes in the shard's order.
                holders[address]?.removed(fromShard: shard.index, shardEmptied: !shard.holds(address))
                if holders[address]?.isEmpty ?? true {
                    holders.removeValue(forKey: address)
                    left.append(address)
                }
            }
            onTransition(left)
        }
    }

    /// Whether any local stream answers to `address`, a user, session, device, tenant or channel
    /// (connection ids and broadcast are not counted).
    public func holds(_ address: Address) -> Bool {
        holders.withLockedValue { $0[address] != nil }
    }

    /// Delivers a publication to the matching local streams: encoded once, queued on the loops that
    /// hold them and no others. Callable from any thread. Returns whether any loop may hold one (an
    /// address none of the node's streams answers to costs this lookup and nothing else).
    @discardableResult
    public func deliver(_ publication: Publication) -> Bool {
        let loops = loops(for: publication.target)
        guard !loops.isEmpty else { return false }
        let event = OutboundEvent(publication)
        for shard in shards where loops.contains(shard.index) {
            shard.enqueue(event)
        }
        return true
    }

    /// The loops that may hold streams for `target`.
    func loops(for target: Address) -> ShardSet {
        switch target.kind {
        case .broadcast:
            return connectionCount > 0 ? .all : .none
        case .connection:
            // Not one of this hub's ids (another node's, or a hub of more loops than an id can name): every loop looks.
            guard let shard = ConnectionID.shard(of: target.id), shard < shards.count else { return .all }
            return ShardSet(shard)
        default:
            guard let holders = holders.withLockedValue({ $0[target] }) else { return .none }
            return shards.count > StreamHolders.trackedShards ? .all : ShardSet(mask: holders.shards)
        }
    }

    /// Ends every local stream that answers to `target`, each with `farewell` as its last event.
    public func end(matching target: Address, _ reason: CloseReason, farewell: ByteBuffer) {
        for shard in shards {
            shard.eventLoop.execute { shard.end(matching: target, reason, farewell: farewell) }
        }
    }

    /// Runs `body` for every open stream, on the stream's own event loop: whatever `body` enqueues
    /// is ordered before anything the stream's closing enqueues afterwards.
    func forEachOpenStream(_ body: @escaping @Sendable (ConnectionRecord) -> Void) async -> Int {
        var count = 0
        for shard in shards {
            count += (try? await shard.eventLoop.submit {
                let records = shard.records
                records.forEach(body)
                return records.count
            }.get()) ?? 0
        }
        return count
    }

    /// Closes every stream spread over `window` (see `HubShard.drain`) and waits until all are closed,
    /// for at most the window and a second.
    public func drain(within window: Duration, retryMillis: Int) async {
        for shard in shards {
            shard.eventLoop.execute { shard.drain(within: TimeAmount(window), retryMillis: retryMillis) }
        }
        let deadline = ContinuousClock.now + window + .seconds(1)
        while connectionCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Closes every stream and waits until each has been handed its close.
    public func closeAll() async {
        await withTaskGroup(of: Void.self) { group in
            for shard in shards {
                group.addTask {
                    try? await shard.eventLoop.submit {
                        shard.stopHeartbeat()
                        shard.closeAll()
                    }.get()
                }
            }
        }
    }

    private func shard(for loop: EventLoop) -> HubShard {
        for shard in shards where shard.eventLoop === loop { return shard }
        preconditionFailure("connection on an event loop the hub does not know")
    }
}
