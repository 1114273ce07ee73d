import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Sets the registry right when it disagrees with this node's open streams: after Redis lost the node's
/// entries (restarted without its data, or flushed; the lease keeper notices) and after writes that failed
/// while Redis was away (the readiness gate notices once it is back). Every correction goes through the
/// ordered registration queue, so a stream that closes meanwhile still ends unregistered.
///
/// Repairs are asked for without waiting and run one at a time on this service's task, so that neither the
/// lease's renewals nor the readiness checks wait for one; asks that come while one is pending join it.
final class RegistryRepair: Service, Sendable {
    /// What went wrong, which decides what is repaired; `lostEntries` repairs what `missedWrites` does and more.
    enum Cause: Int, Comparable, Sendable {
        /// Writes failed while Redis was away: register the open streams whose registration failed, and
        /// unregister the streams that ended meanwhile (`reconcile(registeringMissing: true)`).
        case missedWrites
        /// Redis lost this node's entries: register every open stream again, then unregister what ended
        /// (`registerAgain`).
        case lostEntries

        static func < (lhs: Cause, rhs: Cause) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let nodeID: String
    private let hub: LocalHub
    private let registry: any Registry
    private let registrations: RegistrationQueue
    private let logger: Logger
    /// What the repair asked for and not yet begun is for.
    private let pending = NIOLockedValueBox<Cause?>(nil)
    /// Rings once per ask; asks that ring while one waits make one wake-up.
    private let bell: AsyncStream<Void>
    private let ringer: AsyncStream<Void>.Continuation

    init(nodeID: String, hub: LocalHub, registry: any Registry, registrations: RegistrationQueue, logger: Logger) {
        self.nodeID = nodeID
        self.hub = hub
        self.registry = registry
        self.registrations = registrations
        self.logger = logger
        (bell, ringer) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for the repair `cause` needs, to run as soon as the one under way (if any) is done. Never waits.
    func request(_ cause: Cause) {
        pending.withLockedValue { pending in pending = max(pending ?? cause, cause) }
        ringer.yield()
    }

    func run() async {
        await cancelWhenGracefulShutdown { [self] in
            for await _ in bell {
                guard let cause = pending.withLockedValue({ pending in defer { pending = nil }; return pending }) else { continue }
                switch cause {
                case .lostEntries: await registerAgain()
                case .missedWrites: await reconcile(registeringMissing: true)
                }
            }
        }
    }

    /// Redis lost this node's entries (restarted without its data, or flushed): write every live
    /// connection again, through the same ordered queue as new ones.
    func registerAgain() async {
        let registrations = self.registrations
        // Each open stream's addresses have a stream here, so adding the node to them again is right.
        let count = await hub.forEachOpenStream { record in
            registrations.enqueue(.register(record, joined: record.addresses))
        }
        logger.warning("registry had lost this node's entries, or missed writes; registered its live connections again", metadata: ["connections": "\(count)"])
        _ = registrations.takeMissedWrites()
        await reconcile()
    }

    /// After an outage, what Redis says this node holds may outlive what it holds: streams that ended
    /// while Redis was away could not be unregistered, and, the node being alive, no reaper removes
    /// them. Those are unregistered now, through the same ordered queue (their closes are published),
    /// leaving the addresses no open stream here answers to. With `registeringMissing`, open streams whose
    /// registration failed are registered too.
    func reconcile(registeringMissing: Bool = false) async {
        do {
            // Read first, then look: a stream that opens in between is not in what was read.
            let recorded = try await registry.connections(ofNode: nodeID)
            let open = NIOLockedValueBox([String: ConnectionRecord]())
            _ = await hub.forEachOpenStream { record in open.withLockedValue { $0[record.connectionID] = record } }
            let live = open.withLockedValue { $0 }
            let stale = recorded.filter { live[$0.connectionID] == nil }
            if registeringMissing {
                let recordedIDs = Set(recorded.map(\.connectionID))
                let missing = live.values.filter { !recordedIDs.contains($0.connectionID) }
                for record in missing { registrations.enqueue(.register(record, joined: record.addresses)) }
                if !missing.isEmpty {
                    logger.warning("registered streams whose registration failed while Redis was unreachable", metadata: ["connections": "\(missing.count)"])
                }
            }
            guard !stale.isEmpty else { return }
            let hub = self.hub
            for record in stale {
                registrations.enqueue(.unregister(record, left: record.addresses.filter { !hub.holds($0) }))
            }
            logger.warning("removed registry entries of streams that ended while it was unreachable", metadata: ["connections": "\(stale.count)"])
        } catch {
            logger.warning("could not compare the registry with the open streams", metadata: ["error": "\(error)"])
        }
    }
}
