import Logging
import NIOCore

/// One open event stream. Its mutable state is touched only on its channel's event loop.
///
/// Events reach it in batches (see `HubShard`): `enqueue` adds each event, with this stream's own
/// `id:` line, to one outbox buffer, and `flush` writes the outbox with one flush, so a stream that
/// gets several events in one turn of its loop costs one `write(2)`, not one per event.
final class SSEConnection: @unchecked Sendable {
    let record: ConnectionRecord
    /// `record.addresses`, worked out once: a broadcast pass asks every stream whether it matches.
    let addresses: [Address]
    let channel: Channel
    private(set) var isOpen = true
    /// Why the server ended the stream; nil while open, or when the client closed it.
    private(set) var closeReason: CloseReason?
    /// Where this stream stands in each history stream it reads; sent as every event's `id:`.
    private(set) var token: ResumeToken
    /// The positions the client resumed from (its `Last-Event-ID`): it had everything up to them.
    private let resumedFrom: ResumeToken
    /// Positions replayed from history, so that the same events arriving live are not sent twice.
    private var replayed: Set<HistoryPosition> = []
    private var recent = RecentEvents()
    /// Events that arrive before the stream is activated wait here, so `connected` and any
    /// replayed backlog always come first.
    private var pending: [OutboundEvent]? = []
    private static let maxPending = 1024
    /// What this turn of the loop has for the client; nil when nothing waits (idle streams hold no buffer).
    private var outbox: ByteBuffer?
    /// Mirrors the channel's writability (from `channelWritabilityChanged`), read on every flush
    /// without a call through the `Channel` existential.
    private var isWritable = true

    /// When the stream's token runs out (ms since 1970): it is then sent `expired` and closed.
    let expiresAt: Int64?

    var id: String { record.connectionID }
    /// Kept, not fetched from the channel on every send (an existential call on the hot path).
    let eventLoop: EventLoop
    /// This stream's index in its shard's list of streams, for removal in constant time.
    var slot = -1

    init(record: ConnectionRecord, channel: Channel, token: ResumeToken, resumedFrom: ResumeToken, expiresAt: Int64? = nil) {
        self.record = record
        self.expiresAt = expiresAt
        self.addresses = record.addresses
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.token = token
        self.resumedFrom = resumedFrom
    }

    /// Whether events for `target` are for this stream.
    func matches(_ target: Address) -> Bool {
        switch target.kind {
        case .broadcast: true
        case .connection: target.id == record.connectionID
        default: addresses.contains(target)
        }
    }

    /// Adds an event to the outbox unless this stream already had it: before its resume point,
    /// replayed from history, or a retried publish. Events of one stream may arrive out of position
    /// order (two publishes racing); each is still sent once, and the token keeps the highest position.
    /// Returns true when the outbox was empty before, i.e. the caller has to `flush` this stream.
    @discardableResult
    func enqueue(_ event: OutboundEvent, logger: Logger) -> Bool {
        eventLoop.assertInEventLoop()
        guard isOpen else { return false }
        if pending != nil {
            guard pending!.count < Self.maxPending else {
                logger.warning("closing stream: too many events before it was ready", metadata: ["connection": "\(id)"])
                close(reason: .slowClient)
                return false
            }
            pending!.append(event)
            return false
        }
        let seen = recent.contains(event.eventKey)
        if let tag = event.streamTag, let position = event.position {
            if let floor = resumedFrom.position(ofTag: tag), position <= floor { return false }
            if !replayed.isEmpty, let stream = event.stream, replayed.contains(HistoryPosition(stream: stream, position: position)) {
                return false
            }
            let advanced = token.advance(tag: tag, to: position)
            // The same publication through another of its targets: not sent again, but the client's
            // last id moves past it in this stream too (an `id:`-only block dispatches no event), so a
            // resume does not bring it back.
            if seen { return advanced ? appendID() : false }
        } else if seen {
            return false
        }
        recent.insert(event.eventKey)
        return append(event.body)
    }

    /// Writes what the outbox holds, with one flush. A client whose unsent bytes passed the
    /// channel's high water mark has fallen too far behind: it is disconnected (it resumes later
    /// with its last id) so it never holds up the others.
    func flush(logger: Logger) {
        guard let bytes = outbox else { return }
        outbox = nil
        guard isOpen else { return }
        guard isWritable else {
            logger.warning("closing slow client: send buffer full", metadata: ["connection": "\(id)"])
            close(reason: .slowClient)
            return
        }
        channel.writeAndFlush(bytes, promise: nil)
    }

    /// Bytes that are no event and carry no id: a heartbeat comment, a bare `retry:` hint.
    /// Not sent before the stream is activated.
    func sendControl(_ comment: ByteBuffer, logger: Logger) {
        eventLoop.assertInEventLoop()
        guard isOpen, pending == nil else { return }
        if outbox == nil { outbox = comment } else { outbox!.writeImmutableBuffer(comment) }
        flush(logger: logger)
    }

    /// Sends `connected`, then `reset` or the replayed backlog, then whatever arrived meanwhile.
    /// `connected` and `reset` are event bodies without their `id:`, which is the stream's token.
    func activate(connected: ByteBuffer, reset: ByteBuffer?, backlog: [OutboundEvent], advancing: [(Address, StreamPosition)], logger: Logger) {
        eventLoop.assertInEventLoop()
        guard let waiting = pending else { return }
        pending = nil
        append(connected)
        if let reset {
            // The client reloads its state: skip what was missed, stand at the newest kept event.
            for (stream, position) in advancing { token.advance(stream, to: position) }
            append(reset)
        } else {
            for event in backlog {
                enqueue(event, logger: logger)
                if let stream = event.stream, let position = event.position {
                    replayed.insert(HistoryPosition(stream: stream, position: position))
                }
            }
        }
        for event in waiting { enqueue(event, logger: logger) }
        // Later live events were published after the backlog was read.
        replayed = []
        flush(logger: logger)
    }

    /// `id: <token>` and the shared event bytes, into the outbox. Returns true if it was empty.
    @discardableResult
    private func append(_ body: ByteBuffer) -> Bool {
        let wasEmpty = outbox == nil
        if wasEmpty { outbox = channel.allocator.buffer(capacity: body.readableBytes + 6 + 24 * token.positions.count) }
        outbox!.writeStaticString("id: ")
        token.write(to: &outbox!)
        outbox!.writeInteger(UInt8(ascii: "\n"))
        outbox!.writeImmutableBuffer(body)
        return wasEmpty
    }

    /// `id: <token>` alone: moves the client's last event id without an event.
    private func appendID() -> Bool {
        let wasEmpty = outbox == nil
        if wasEmpty { outbox = channel.allocator.buffer(capacity: 8 + 24 * token.positions.count) }
        outbox!.writeStaticString("id: ")
        token.write(to: &outbox!)
        outbox!.writeStaticString("\n\n")
        return wasEmpty
    }

    /// Called from the stream's handler when the channel's writability flips.
    func writabilityChanged(_ isWritable: Bool) {
        self.isWritable = isWritable
    }

    /// Sends `farewell` as the stream's last event (when it is open for events yet), then closes it.
    func end(_ reason: CloseReason, farewell: ByteBuffer, logger: Logger) {
        sendControl(farewell, logger: logger)
        close(reason: reason)
    }

    /// Ends the stream from the server's side, for `reason`.
    func close(reason: CloseReason) {
        eventLoop.assertInEventLoop()
        guard isOpen else { return }
        isOpen = false
        closeReason = reason
        outbox = nil
        // Not activated yet: the response head still waits for `connected`. The client gets it
        // before the close, so it sees a stream that ended rather than a connection dropped.
        if pending != nil { channel.flush() }
        channel.close(promise: nil)
    }

    /// Marks the connection closed after the peer went away.
    func markClosed() {
        eventLoop.assertInEventLoop()
        isOpen = false
        outbox = nil
    }
}
