import Foundation
import Logging
import ServiceLifecycle

/// Keeps this node's lease in the registry, reaps the entries of nodes whose lease ran out (they
/// died), and asks for the node's streams to be registered again when the registry lost them (Redis
/// restarted empty, or was flushed). Runs until cancelled or shut down; a graceful shutdown gives the
/// lease up: the node leaves the registry, and whatever is left of its entries goes with it.
final class LeaseKeeper: Service, Sendable {
    private let registry: any Registry
    private let lifecycle: LifecyclePublisher?
    private let record: @Sendable () -> NodeRecord
    /// The node's running totals, stamped into its record at every renewal.
    private let totals: @Sendable () -> NodeTotals?
    private let lease: Duration
    private let logger: Logger
    /// Called when the registry lost this node's entries after the first renewal.
    private let registerAgain: @Sendable () async -> Void
    /// Whether this node can publish what reaping finds (its broker is connected): a node that cannot
    /// leaves the dead to a peer that can, so that no close, offline or vacated is taken and lost.
    private let canPublish: @Sendable () -> Bool

    init(
        registry: any Registry, lease: Duration, lifecycle: LifecyclePublisher? = nil, logger: Logger,
        record: @escaping @Sendable () -> NodeRecord, totals: @escaping @Sendable () -> NodeTotals? = { nil },
        canPublish: @escaping @Sendable () -> Bool = { true }, registerAgain: @escaping @Sendable () async -> Void
    ) {
        self.canPublish = canPublish
        self.registry = registry
        self.lifecycle = lifecycle
        self.lease = lease
        self.logger = logger
        self.record = record
        self.totals = totals
        self.registerAgain = registerAgain
    }

    func run() async {
        let record = self.record()
        await cancelWhenGracefulShutdown { [self] in await keep(record) }
        guard Task.isShuttingDownGracefully, !Task.isCancelled else { return }
        await release(record.nodeID)
    }

    private func keep(_ record: NodeRecord) async {
        var failing = false
        var first = true
        while !Task.isCancelled {
            do {
                var stamped = record
                stamped.totals = totals()
                let present = try await registry.registerNode(stamped, lease: lease)
                if failing { logger.info("node lease renewed again") }
                // After an outage peers may have taken this node for dead and reaped its entries.
                if (!present || failing) && !first { await registerAgain() }
                first = false
                failing = false
                if canPublish() { try await reapDeadNodes(except: record.nodeID) }
            } catch {
                if !failing { logger.error("node lease renewal failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: lease / 3)
        }
    }

    /// Unregisters the node and removes its entries. Normally none are left by now (the drain closed every
    /// stream and waited for their unregistrations); what is (a write that failed) ended with the drain.
    private func release(_ nodeID: String) async {
        do {
            try await registry.unregisterNode(nodeID)
            let removed = try await registry.removeEntries(ofNode: nodeID)
            lifecycle?.removed(removed, reason: .drain)
        } catch {
            logger.warning("could not remove registry entries", metadata: ["error": "\(error)"])
        }
    }

    /// Removes what nodes that died (their lease ran out) left in the registry, so nothing routes to
    /// them and their users count as offline, and publishes the closes (and offline, vacated) of their
    /// connections. Every node does this; the registry gives each connection to one reaper only, so
    /// each close is published once however many reap at the same time.
    private func reapDeadNodes(except nodeID: String) async throws {
        // A lease that ran out a whole lease ago: a live node cut off from Redis for a moment renews
        // first. Death to reaping stays within three lease intervals.
        for dead in try await registry.expiredNodes(before: lease) where dead != nodeID {
            let removed = try await registry.removeEntries(ofNode: dead, expiredFor: lease)
            lifecycle?.removed(removed, reason: .nodeDied)
            try await registry.unregisterNode(dead)
            logger.warning("reaped the registry entries of a dead node", metadata: ["dead": "\(dead)", "connections": "\(removed.count)"])
        }
    }
}
