import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// This node's open streams, sharded by event loop. Delivery encodes an event once and hands the
/// shared bytes to each loop, which writes them to its own connections.
public final class LocalHub: Sendable {
    private let shards: [HubShard]
    private let logger: Logger
    /// Node-wide open streams per address (user, session, device, tenant, channel): the registry hears
    /// only of an address's first stream here and its last, and a stale route (the target left) shows.
    private let addressCounts = NIOLockedValueBox<[Address: Int]>([:])
    private let total = NIOLockedValueBox(0)

    public init(
        eventLoopGroup: EventLoopGroup, heartbeatInterval: TimeAmount, writeDelay: TimeAmount = .zero, pacing: Bool = true,
        pacingBudget: TimeAmount = .milliseconds(100), logger: Logger, metrics: NodeMetrics? = nil
    ) {
        self.logger = logger
        let comment = SSEEncoder.comment("heartbeat")
        self.shards = eventLoopGroup.makeIterator().map { loop in
            let shard = HubShard(
                eventLoop: loop, writeDelay: writeDelay, load: pacing ? LoopLoad() : .neverBusy, pacingBudget: pacingBudget,
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
    public var addresses: [Address] { addressCounts.withLockedValue { Array($0.keys) } }

    /// Adds a connection on its own loop. `onTransition` runs under the hub's lock with the addresses
    /// this connection is the first local stream of, so registry updates are issued in order.
    func add(_ connection: SSEConnection, onTransition: ([Address]) -> Void) {
        let shard = shard(for: connection.eventLoop)
        shard.add(connection)
        total.withLockedValue { $0 += 1 }
        addressCounts.withLockedValue { counts in
            var joined: [Address] = []
            for address in connection.addresses {
                counts[address, default: 0] += 1
                if counts[address] == 1 { joined.append(address) }
            }
            onTransition(joined)
        }
    }

    /// Removes a connection; `onTransition` gets the addresses it was the last local stream of.
    func remove(_ connection: SSEConnection, onTransition: ([Address]) -> Void) {
        let shard = shard(for: connection.eventLoop)
        guard shard.remove(connection) else { return }
        total.withLockedValue { $0 -= 1 }
        addressCounts.withLockedValue { counts in
            var left: [Address] = []
            for address in connection.addresses {
                counts[address, default: 1] -= 1
                if counts[address] == 0 {
                    counts.removeValue(forKey: address)
                    left.append(address)
                }
            }
            onTransition(left)
        }
    }

    /// Whether any local stream answers to `address`, a user, session, device, tenant or channel
    /// (connection ids and broadcast are not counted).
    public func holds(_ address: Address) -> Bool {
        addressCounts.withLockedValue { $0[address] != nil }
    }

    /// Delivers a publication to the matching local streams. Callable from any thread.
    public func deliver(_ publication: Publication) {
        let event = OutboundEvent(publication)
        for shard in shards {
            shard.enqueue(event)
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
