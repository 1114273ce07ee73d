import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The connections that live on one event loop, indexed by id and by every address they answer to.
/// Everything here runs on `eventLoop`, so delivery needs no locks and no task per connection.
///
/// Events arrive from any thread into an inbox, and the loop delivers whatever has gathered there
/// in one pass, flushing each stream once. When the loop keeps up, a pass is one event; when it
/// falls behind (a broadcast to many streams takes a while), the next pass carries every event that
/// arrived meanwhile, and each stream gets them in one `write(2)`: the busier the node, the fewer
/// system calls per event. `writeDelay` makes a pass wait that long for more events, for more of
/// that saving when the node is not (yet) behind.
///
/// Pacing spends a latency budget (`sse.pacingBudget`) on fewer writes, and only where that pays. While
/// the loop is busy (`LoopLoad`: its passes take most of its time), after a pass that wrote to at least
/// `pacingStreams` streams, the next pass may wait for more events to share its writes, but only as long
/// as the budget leaves after that pass's own length (an event is then out within about the budget), and
/// only if events have lately come closer together than that wait (so at least one more is expected to
/// join). Otherwise the loop is work-conserving: a pass starts as soon as an event arrives, and events
/// that arrive during a pass share the next one. A loop with time to spare, passes that write to a few
/// streams (one user's events), and broadcasts further apart than the budget allows never wait.
final class HubShard: @unchecked Sendable {
    /// A pass that writes to this many streams may make the next one wait, while the loop is busy.
    static let pacingStreams = 1000
    /// How much the newest gap between events counts in their running mean (`InboxTimes`).
    static let gapWeight = 0.25

    /// Its place among the hub's shards, named by its streams' connection ids.
    let index: Int
    let eventLoop: EventLoop
    private let logger: Logger
    private var connections: [String: SSEConnection] = [:]
    /// The same connections in a contiguous array: a broadcast walks it without hashing.
    private var all: [SSEConnection] = []
    /// Connections by user, session, device, tenant and channel address (by id: `connections`).
    private var byAddress: [Address: [String: SSEConnection]] = [:]
    private var heartbeat: RepeatedTask?
    /// Streams with an expiring token here; the expiry sweep runs only while there are any.
    private var expiring = 0
    private var expirySweep: RepeatedTask?
    private let inbox = NIOLockedValueBox(Inbox())
    /// Streams with bytes waiting in their outbox during a pass (reused between passes).
    private var dirty: [SSEConnection] = []
    /// An empty outbox buffer, lent to the next stream that writes and given back once the socket took
    /// it whole: a pass over thousands of streams allocates one, not one per stream.
    private var spare: ByteBuffer?

    private struct Inbox {
        /// A pass is booked by the event that finds none booked, and takes everything that came meanwhile.
        var events = DrainQueue<OutboundEvent>()
        /// When the last event arrived, and the running mean of the gaps between arrivals (ns).
        var lastArrival: UInt64 = 0
        var meanGap: Double = .infinity
    }

    /// How long the first event of a pass waits for others to join it (`sse.writeDelay`).
    private let writeDelay: TimeAmount
    /// How long the next pass waits, in nanoseconds: set on the loop after each pass, read by `enqueue`
    /// on any thread.
    private let pacingNanoseconds = Atomic<Int64>(0)
    /// How busy the loop is with its passes (loop only).
    private var load: LoopLoad
    /// The most pacing may add to an event's time to its streams, pass included (`sse.pacingBudget`).
    private let pacingBudget: TimeAmount
    private let metrics: NodeMetrics?
    /// Event × stream pairs written since the last pass was counted.
    private var deliveredInPass = 0

    init(
        index: Int = 0, eventLoop: EventLoop, writeDelay: TimeAmount = .zero, load: LoopLoad = LoopLoad(),
        pacingBudget: TimeAmount = .milliseconds(100), logger: Logger, metrics: NodeMetrics? = nil
    ) {
        self.metrics = metrics
        self.index = index
        self.eventLoop = eventLoop
        self.writeDelay = writeDelay
        self.load = load
        self.pacingBudget = pacingBudget
        self.logger = logger
    }

    var count: Int {
        eventLoop.assertInEventLoop()
        return connections.count
    }

    func add(_ connection: SSEConnection) {
        eventLoop.assertInEventLoop()
        connections[connection.id] = connection
        connection.slot = all.count
        all.append(connection)
        if connection.expiresAt != nil { expiring += 1 }
        for address in connection.addresses {
            byAddress[address, default: [:]][connection.id] = connection
        }
    }

    /// Returns false if the connection was not here (already removed).
    @discardableResult
    func remove(_ connection: SSEConnection) -> Bool {
        eventLoop.assertInEventLoop()
        guard connections.removeValue(forKey: connection.id) != nil else { return false }
        let last = all.removeLast()
        if last !== connection {
            all[connection.slot] = last
            last.slot = connection.slot
        }
        connection.slot = -1
        if connection.expiresAt != nil { expiring -= 1 }
        for address in connection.addresses {
            byAddress[address]?.removeValue(forKey: connection.id)
            if byAddress[address]?.isEmpty == true { byAddress.removeValue(forKey: address) }
        }
        return true
    }

    /// Whether a stream here answers to `address`.
    func holds(_ address: Address) -> Bool {
        eventLoop.assertInEventLoop()
        return byAddress[address] != nil
    }

    /// Queues an already-encoded event for this loop's streams. Callable from any thread; events
    /// queued from one thread are delivered in that order.
    func enqueue(_ event: OutboundEvent) {
        let now = NIODeadline.now().uptimeNanoseconds
        let schedulePass = inbox.withLockedValue { inbox in
            if inbox.lastArrival > 0, now > inbox.lastArrival {
                let gap = Double(now - inbox.lastArrival)
                inbox.meanGap = inbox.meanGap.isFinite ? inbox.meanGap + Self.gapWeight * (gap - inbox.meanGap) : gap
            }
            inbox.lastArrival = now
            return inbox.events.append(event)
        }
        guard schedulePass else { return }
        let pacing = self.pacing
        let delay = max(writeDelay, pacing)
        if delay > .zero {
            eventLoop.scheduleTask(in: delay) { self.deliverInbox() }
        } else {
            eventLoop.execute { self.deliverInbox() }
        }
    }

    /// How long the next pass waits because the last one wrote to many streams (see the type's comment).
    private var pacing: TimeAmount {
        .nanoseconds(pacingNanoseconds.load(ordering: .relaxed))
    }

    private func deliverInbox() {
        let (batch, meanGap) = inbox.withLockedValue { inbox in
            (inbox.events.takeAll(), inbox.meanGap)
        }
        let start = NIODeadline.now()
        let written = deliver(batch)
        let end = NIODeadline.now()
        if let metrics { record(batch, into: metrics) }
        let isBusy = load.record(passFrom: start, to: end)
        let pacing = isBusy && written >= Self.pacingStreams ? Self.pacing(took: end - start, budget: pacingBudget, meanGap: meanGap) : .zero
        pacingNanoseconds.store(pacing.nanoseconds, ordering: .relaxed)
    }

    /// How long the next pass waits after a large pass on a busy loop: what the budget leaves after the
    /// pass itself, if events have lately come closer together than that (so waiting gathers at least
    /// one more for the same writes); otherwise nothing.
    static func pacing(took: TimeAmount, budget: TimeAmount, meanGap: Double) -> TimeAmount {
        let wait = budget - took
        guard wait > .zero, meanGap < Double(wait.nanoseconds) else { return .zero }
        return wait
    }

    /// Deliveries counted once per pass, and each event's time from its acceptance to this pass's
    /// end: once per event and loop, not per stream, so a broadcast costs the metrics next to nothing.
    private func record(_ batch: [OutboundEvent], into metrics: NodeMetrics) {
        guard deliveredInPass > 0 else { return }
        metrics.delivered(deliveredInPass)
        deliveredInPass = 0
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        for event in batch {
            if let acceptedAt = event.acceptedAt, now >= acceptedAt { metrics.deliveryLatency(microseconds: now - acceptedAt) }
        }
    }

    /// Writes the events, in order, to every local stream their targets name; each stream is
    /// flushed once, after all of its events. Returns how many streams it wrote to (about, for a broadcast).
    @discardableResult
    func deliver(_ batch: [OutboundEvent]) -> Int {
        eventLoop.assertInEventLoop()
        // Counted in a local and added once: no write to the shard per stream in the fan-out loop.
        var delivered = 0
        defer { deliveredInPass += delivered }
        if batch.contains(where: { $0.target.kind == .broadcast }) {
            // Most streams get something: stream by stream, so each is flushed as soon as it has its events.
            var spare = self.spare.take()
            defer { self.spare = spare }
            for connection in all {
                for event in batch where connection.matches(event.target) {
                    connection.enqueue(event, logger: logger, spare: &spare)
                    delivered += 1
                }
                connection.flush(logger: logger, spare: &spare)
            }
            return all.count
        }
        for event in batch {
            switch event.target.kind {
            case .connection:
                if let connection = connections[event.target.id] {
                    enqueue(event, to: connection)
                    delivered += 1
                }
            case .broadcast:
                break
            default:
                guard let streams = byAddress[event.target] else { continue }
                streams.values.forEach { enqueue(event, to: $0) }
                delivered += streams.count
            }
        }
        for connection in dirty { connection.flush(logger: logger) }
        defer { dirty.removeAll(keepingCapacity: true) }
        return dirty.count
    }

    private func enqueue(_ event: OutboundEvent, to connection: SSEConnection) {
        if connection.enqueue(event, logger: logger) { dirty.append(connection) }
    }

    /// One timer per event loop writes the same comment to all its streams: no timer per connection.
    func startHeartbeat(every interval: TimeAmount, comment: ByteBuffer) {
        heartbeat = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            all.forEach { $0.heartbeat(comment, logger: logger) }
        }
    }

    func stopHeartbeat() {
        heartbeat?.cancel()
        heartbeat = nil
        expirySweep?.cancel()
        expirySweep = nil
    }

    /// Once a second, streams whose token ran out get `expired` and are closed (the client fetches a
    /// new token and resumes). One timer per loop, not one per stream; a second-long walk over a few
    /// thousand streams costs microseconds, and it is skipped while no stream here expires.
    func startExpirySweep(every interval: TimeAmount = .seconds(1), now: @escaping @Sendable () -> Int64) {
        let farewell = Farewell.event(.expired, reconnect: true)
        expirySweep = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            guard expiring > 0 else { return }
            let now = now()
            for connection in all {
                if let expiresAt = connection.expiresAt, expiresAt <= now { connection.end(.expired, farewell: farewell, logger: logger) }
            }
        }
    }

    /// Ends every stream here that answers to `target` with `farewell`; returns how many.
    @discardableResult
    func end(matching target: Address, _ reason: CloseReason, farewell: ByteBuffer) -> Int {
        eventLoop.assertInEventLoop()
        let matching: [SSEConnection]
        switch target.kind {
        case .connection: matching = connections[target.id].map { [$0] } ?? []
        case .broadcast: matching = all
        default: matching = byAddress[target].map { Array($0.values) } ?? []
        }
        for connection in matching { connection.end(reason, farewell: farewell, logger: logger) }
        return matching.count
    }

    var records: [ConnectionRecord] {
        eventLoop.assertInEventLoop()
        return all.map(\.record)
    }

    /// Tells every stream when to come back (`retry:`) and closes each at a random moment within
    /// `window`, so clients reconnect to the other nodes spread out instead of all at once.
    func drain(within window: TimeAmount, retryMillis: Int) {
        eventLoop.assertInEventLoop()
        for connection in all {
            let delay = TimeAmount.nanoseconds(Int64.random(in: 0...max(0, window.nanoseconds)))
            // Sooner than the usual hint: come back now, to another node.
            let hint = Self.retryHint(Int.random(in: 100...max(100, retryMillis - 1)))
            eventLoop.scheduleTask(in: delay) { [logger] in
                connection.sendControl(hint, logger: logger)
                connection.end(.drain, farewell: Self.drainFarewell, logger: logger)
            }
        }
    }

    private static let drainFarewell = Farewell.event(.drain, reconnect: true)

    private static func retryHint(_ millis: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("retry: \(millis)\n\n")
        return buffer
    }

    /// Closes every stream; each one's cleanup runs as its channel goes inactive.
    func closeAll() {
        eventLoop.assertInEventLoop()
        all.forEach { $0.close(reason: .drain) }
    }
}
