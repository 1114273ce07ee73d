import Logging
import NIOCore

/// One open event stream. Its mutable state is touched only on its channel's event loop.
///
/// Events reach it in batches (see `HubShard`): `enqueue` adds each event, with this stream's own
/// `id:` line, to one outbox buffer, and `flush` writes the outbox with one flush, so a stream that
/// gets several events in one turn of its loop costs one `write(2)`, not one per event.
///
/// A stream opens, may replay what its client missed, then is live (`Phase`). While it opens and
/// replays, live events are held back (`HeldEvents`); a replay goes out a page at a time, each page
/// written only as fast as the client reads it (`replay`), so a resuming client never makes the node
/// buffer more for it than a live one.
final class SSEConnection: @unchecked Sendable {
    /// Where a stream is in its life; it only moves forward.
    private enum Phase {
        /// Being registered: nothing written yet (the response head waits for `connected`).
        case opening
        /// `connected` is out; the missed events are going out page by page.
        case replaying
        /// Events go out as they come.
        case live
    }

    /// A page of the backlog being written, and whom to tell once it is all with the channel.
    private struct ReplayPage {
        var events: ArraySlice<OutboundEvent>
        let written: @Sendable (Bool) -> Void
    }

    let record: ConnectionRecord
    /// `record.addresses`, worked out once: a broadcast pass asks every stream whether it matches.
    let addresses: [Address]
    let channel: Channel
    private(set) var isOpen = true
    /// Why the server ended the stream; nil while open, or when the client closed it.
    private(set) var closeReason: CloseReason?
    /// Where this stream stands in each history stream it reads; sent as every event's `id:`.
    private(set) var token: ResumeToken
    /// Per history stream, the position up to which the client has every kept event: where it resumed
    /// from (its `Last-Event-ID`), then each replayed event. A live event at or behind it was kept
    /// before the replay read past it, so the client has it already.
    private var floor: ResumeToken
    private var recent = RecentEvents()
    private var phase = Phase.opening
    /// Live events that arrive while opening or replaying, so `connected` and the backlog come first.
    private var held = HeldEvents()
    /// The replayed page still waiting for the client to read (nil when none waits).
    private var replayPage: ReplayPage?
    /// Heartbeats in a row that found a replay waiting on a client that read nothing in between.
    private var stalledBeats = 0
    /// `sse.maxBufferedBytes`: how far behind the client may fall (the channel's high water mark),
    /// and how much it may have held back.
    private let maxBufferedBytes: Int
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

    init(
        record: ConnectionRecord, channel: Channel, token: ResumeToken, resumedFrom: ResumeToken, expiresAt: Int64? = nil,
        maxBufferedBytes: Int = 256 * 1024
    ) {
        self.record = record
        self.expiresAt = expiresAt
        self.addresses = record.addresses
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.token = token
        self.floor = resumedFrom
        self.maxBufferedBytes = maxBufferedBytes
    }

    /// Whether events for `target` are for this stream.
    func matches(_ target: Address) -> Bool {
        switch target.kind {
        case .broadcast: true
        case .connection: target.id == record.connectionID
        default: addresses.contains(target)
        }
    }

    /// Adds an event to the outbox, or holds it back while the stream opens or replays (closing the
    /// stream as a slow client when that is more than it may hold).
    /// Returns true when the outbox was empty before, i.e. the caller has to `flush` this stream.
    @discardableResult
    func enqueue(_ event: OutboundEvent, logger: Logger) -> Bool {
        eventLoop.assertInEventLoop()
        guard isOpen else { return false }
        guard case .live = phase else {
            if !held.append(event, maxBytes: maxBufferedBytes) {
                logger.warning(
                    "closing slow client: too many events while its stream opened or replayed",
                    metadata: ["connection": "\(id)", "held": "\(held.events.count)"])
                close(reason: .slowClient)
            }
            return false
        }
        return send(event)
    }

    /// Adds an event to the outbox unless this stream already had it: at or behind its floor, or a
    /// retried publish. Events of one stream may arrive out of position order (two publishes racing);
    /// each is still sent once, and the token keeps the highest position.
    /// Returns true when the outbox was empty before.
    @discardableResult
    private func send(_ event: OutboundEvent) -> Bool {
        let seen = recent.contains(event.eventKey)
        if let tag = event.streamTag, let position = event.position {
            if let floor = floor.position(ofTag: tag), position <= floor { return false }
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
        guard isOpen, case .live = phase else { return }
        guard isWritable else {
            guard outbox != nil else { return }
            logger.warning("closing slow client: send buffer full", metadata: ["connection": "\(id)", "unsent": "\(unsentBytes)"])
            close(reason: .slowClient)
            return
        }
        write()
    }

    /// The outbox to the channel, with one flush.
    private func write() {
        guard let bytes = outbox else { return }
        outbox = nil
        channel.writeAndFlush(bytes, promise: nil)
    }

    /// Bytes that are no event and carry no id: a bare `retry:` hint, a farewell. Not sent before
    /// `connected`; during a replay they go right after what was written, the stream ends next.
    func sendControl(_ comment: ByteBuffer, logger: Logger) {
        eventLoop.assertInEventLoop()
        guard isOpen else { return }
        switch phase {
        case .opening:
            return
        case .replaying:
            appendBytes(comment)
            write()
        case .live:
            appendBytes(comment)
            flush(logger: logger)
        }
    }

    /// The loop's heartbeat: a comment to a live stream. A replay that waits on a client that read
    /// nothing over a whole interval (two beats) is as stuck as a live client past its bound, and is
    /// closed the same way.
    func heartbeat(_ comment: ByteBuffer, logger: Logger) {
        switch phase {
        case .opening:
            return
        case .live:
            sendControl(comment, logger: logger)
        case .replaying:
            guard isOpen, replayPage != nil, !isWritable else {
                stalledBeats = 0
                return
            }
            stalledBeats += 1
            guard stalledBeats >= 2 else { return }
            logger.warning("closing slow client: it stopped reading its backlog", metadata: ["connection": "\(id)", "unsent": "\(unsentBytes)"])
            close(reason: .slowClient)
        }
    }

    /// Sends `connected`, then `reset` when given, then whatever arrived meanwhile: a stream with
    /// nothing to replay goes live. `connected` and `reset` are event bodies without their `id:`,
    /// which is the stream's token.
    func activate(connected: ByteBuffer, reset: ByteBuffer?, advancing: [(Address, StreamPosition)], logger: Logger) {
        eventLoop.assertInEventLoop()
        guard isOpen, case .opening = phase else { return }
        append(connected)
        goLive(reset: reset, advancing: advancing, logger: logger)
    }

    /// Starts a replay: `connected` leaves with the first page.
    func beginReplay(connected: ByteBuffer) {
        eventLoop.assertInEventLoop()
        guard isOpen, case .opening = phase else { return }
        phase = .replaying
        append(connected)
    }

    /// Writes the next page of the backlog (oldest first), in slices of half the bound, as long as the
    /// channel takes them; what is left waits until the client has read enough (`writabilityChanged`).
    /// `written(true)` once the whole page is with the channel and it takes more: time for the next
    /// page. `written(false)` if the stream ended.
    func replay(_ page: [OutboundEvent], written: @escaping @Sendable (Bool) -> Void) {
        eventLoop.assertInEventLoop()
        guard isOpen, case .replaying = phase, replayPage == nil else { return written(false) }
        replayPage = ReplayPage(events: page[...], written: written)
        writeReplayPage()
    }

    private func writeReplayPage() {
        // Taken out while writing: a writability change fired from inside a write finds nothing to resume.
        guard var page = replayPage else { return }
        replayPage = nil
        while isOpen {
            while isWritable, let event = page.events.popFirst() {
                send(event)
                if let tag = event.streamTag, let position = event.position { floor.advance(tag: tag, to: position) }
                if let outbox, outbox.readableBytes >= maxBufferedBytes / 2 { write() }
            }
            write()
            guard isWritable else {
                replayPage = page
                return
            }
            if page.events.isEmpty { return page.written(true) }
        }
        page.written(false)
    }

    /// Ends a replay: `reset` when the history turned out truncated on the way, then the held live
    /// events; the stream is live from now on.
    func finishReplay(reset: ByteBuffer?, advancing: [(Address, StreamPosition)], logger: Logger) {
        eventLoop.assertInEventLoop()
        guard isOpen, case .replaying = phase else { return }
        goLive(reset: reset, advancing: advancing, logger: logger)
    }

    private func goLive(reset: ByteBuffer?, advancing: [(Address, StreamPosition)], logger: Logger) {
        phase = .live
        if let reset {
            // The client reloads its state: skip what was missed, stand at the newest kept event.
            for (stream, position) in advancing { token.advance(stream, to: position) }
            append(reset)
        }
        // Those at or behind the floor were replayed.
        for event in held.takeAll() { send(event) }
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

    /// Bytes as they are, into the outbox.
    private func appendBytes(_ bytes: ByteBuffer) {
        if outbox == nil { outbox = bytes } else { outbox!.writeImmutableBuffer(bytes) }
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

    /// Called from the stream's handler when the channel's writability flips: a replayed page that
    /// waited for the client to read goes on.
    func writabilityChanged(_ isWritable: Bool) {
        self.isWritable = isWritable
        guard isWritable else { return }
        stalledBeats = 0
        writeReplayPage()
    }

    /// What the channel holds that the client has not taken yet, for the log line of a slow client.
    private var unsentBytes: String {
        guard let options = channel.syncOptions, let bytes = try? options.getOption(.bufferedWritableBytes) else { return "?" }
        return "\(bytes)"
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
        if case .opening = phase { channel.flush() }
        channel.close(promise: nil)
        endReplay()
    }

    /// Marks the connection closed after the peer went away.
    func markClosed() {
        eventLoop.assertInEventLoop()
        isOpen = false
        outbox = nil
        endReplay()
    }

    /// A replay waiting on the client stops with the stream, and lets go of what it held.
    private func endReplay() {
        held = HeldEvents()
        if let page = replayPage {
            replayPage = nil
            page.written(false)
        }
    }
}
