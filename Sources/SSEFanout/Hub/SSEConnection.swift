import Logging
import NIOCore

/// One open event stream. Its mutable state is touched only on its channel's event loop.
///
/// Events reach it in batches (see `HubShard`): `enqueue` adds each event, with this stream's own
/// `id:` line, to one outbox buffer, and `flush` writes the outbox with one flush, so a stream that
/// gets several events in one turn of its loop costs one `write(2)`, not one per event.
///
/// A stream opens, may replay what its client missed, then is live (`StreamStateMachine`, which
/// decides; this class writes). While it opens and replays, live events are held back (`HeldEvents`);
/// a replay goes out a page at a time, each page written only as fast as the client reads it
/// (`replay`), so a resuming client never makes the node buffer more for it than a live one.
final class SSEConnection: @unchecked Sendable {
    typealias ReplayPage = StreamStateMachine.ReplayPage

    let record: ConnectionRecord
    /// A broadcast pass asks every stream whether it matches. Read from the record, not kept twice: every
    /// byte here is a byte per open stream.
    var addresses: [Address] { record.addresses }
    let channel: Channel
    private var machine: StreamStateMachine
    var isOpen: Bool { machine.isOpen }
    /// Why the server ended the stream; nil while open, or when the client closed it.
    var closeReason: CloseReason? { machine.closeReason }
    /// Where this stream stands in each history stream it reads; sent as every event's `id:`.
    private(set) var token: ResumeToken
    /// Per history stream, the position up to which the client has every kept event: where it resumed
    /// from (its `Last-Event-ID`), then each replayed event. A live event at or behind it was kept
    /// before the replay read past it, so the client has it already.
    private var floor: ResumeToken
    private var recent = RecentEvents()
    /// `sse.maxBufferedBytes`: how far behind the client may fall (the channel's high water mark).
    private let maxBufferedBytes: Int
    /// What this turn of the loop has for the client; nil when nothing waits (idle streams hold no buffer).
    private var outbox: ByteBuffer?
    /// Mirrors the channel's writability (from `channelWritabilityChanged`), read on every flush
    /// without a call through the `Channel` existential.
    private var isWritable = true
    private var writer: DirectWriter

    /// When the stream's token runs out (ms since 1970): it is then sent `expired` and closed.
    var expiresAt: Int64? { record.expiresAt }

    var id: String { record.connectionID }
    /// Kept, not fetched from the channel on every send (an existential call on the hot path).
    let eventLoop: EventLoop
    /// This stream's index in its shard's list of streams, for removal in constant time.
    var slot = -1

    init(
        record: ConnectionRecord, channel: Channel, token: ResumeToken, resumedFrom: ResumeToken,
        maxBufferedBytes: Int = 256 * 1024
    ) {
        self.record = record
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.token = token
        self.floor = resumedFrom
        self.maxBufferedBytes = maxBufferedBytes
        self.machine = StreamStateMachine(maxHeldBytes: maxBufferedBytes)
        self.writer = DirectWriter()
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
        var spare: ByteBuffer?
        return enqueue(event, logger: logger, spare: &spare)
    }

    /// `enqueue`, with an empty buffer the loop lends for the outbox, if it has one (`flush(logger:spare:)`
    /// gives it back): a broadcast pass then allocates no buffer per stream.
    @discardableResult
    func enqueue(_ event: OutboundEvent, logger: Logger, spare: inout ByteBuffer?) -> Bool {
        eventLoop.assertInEventLoop()
        switch machine.enqueue(event) {
        case .send:
            return send(event, spare: &spare)
        case .held, .drop:
            return false
        case .closeSlowClient(let heldCount):
            logger.warning(
                "closing slow client: too many events while its stream opened or replayed", metadata: ["connection": "\(id)", "held": "\(heldCount)"])
            close(reason: .slowClient)
            return false
        }
    }

    /// Adds an event to the outbox unless this stream already had it: at or behind its floor, or a
    /// retried publish. Events of one stream may arrive out of position order (two publishes racing);
    /// each is still sent once, and the token keeps the highest position.
    /// Returns true when the outbox was empty before.
    @discardableResult
    private func send(_ event: OutboundEvent) -> Bool {
        var spare: ByteBuffer?
        return send(event, spare: &spare)
    }

    private func send(_ event: OutboundEvent, spare: inout ByteBuffer?) -> Bool {
        let seen = recent.contains(event.eventKey)
        if let tag = event.streamTag, let position = event.position {
            if let floor = floor.position(ofTag: tag), position <= floor { return false }
            let advanced = token.advance(tag: tag, to: position)
            // The same publication through another of its targets: not sent again, but the client's
            // last id moves past it in this stream too (an `id:`-only block dispatches no event), so a
            // resume does not bring it back.
            if seen { return advanced ? appendID(then: nil, spare: &spare) : false }
        } else if seen {
            return false
        }
        recent.insert(event.eventKey)
        return appendID(then: event.body, spare: &spare)
    }

    /// Writes what the outbox holds, with one flush. A client whose unsent bytes passed the
    /// channel's high water mark has fallen too far behind: it is disconnected (it resumes later
    /// with its last id) so it never holds up the others.
    func flush(logger: Logger) {
        var spare: ByteBuffer?
        flush(logger: logger, spare: &spare)
    }

    /// `flush`, giving an outbox the socket took whole back to the loop, emptied, as its next spare.
    func flush(logger: Logger, spare: inout ByteBuffer?) {
        switch machine.flush(hasOutbox: outbox != nil, isWritable: isWritable) {
        case .none:
            return
        case .write:
            write(spare: &spare)
        case .closeSlowClient:
            logger.warning("closing slow client: send buffer full", metadata: ["connection": "\(id)", "unsent": "\(unsentBytes)"])
            close(reason: .slowClient)
        }
    }

    /// The outbox to the client: with one `send(2)` when the socket takes it all, else through the
    /// channel with one flush (`DirectWriter`).
    private func write() {
        var spare: ByteBuffer?
        write(spare: &spare)
    }

    private func write(spare: inout ByteBuffer?) {
        guard var bytes = outbox.take() else { return }
        switch writer.write(bytes, on: channel) {
        case .written:
            // Nothing else holds it now: emptied, it keeps its memory for the next outbox.
            bytes.clear()
            spare = bytes
        case .channel(let rest, counted: false):
            channel.writeAndFlush(rest, promise: nil)
        case .channel(let rest, counted: true):
            let promise = eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { _ in self.writer.completed() }
            channel.writeAndFlush(rest, promise: promise)
        }
    }

    /// Bytes that are no event and carry no id: a bare `retry:` hint, a farewell. Not sent before
    /// `connected`; during a replay they go right after what was written, the stream ends next.
    func sendControl(_ comment: ByteBuffer, logger: Logger) {
        eventLoop.assertInEventLoop()
        switch machine.control() {
        case .drop:
            return
        case .appendAndWrite:
            appendBytes(comment)
            write()
        case .appendAndFlush:
            appendBytes(comment)
            flush(logger: logger)
        }
    }

    /// The loop's heartbeat: a comment to a live stream; a replay stuck on a client that reads nothing
    /// is closed as a slow client (`StreamStateMachine.heartbeat`).
    func heartbeat(_ comment: ByteBuffer, logger: Logger) {
        switch machine.heartbeat(isWritable: isWritable) {
        case .none:
            return
        case .send:
            sendControl(comment, logger: logger)
        case .closeSlowClient:
            logger.warning("closing slow client: it stopped reading its backlog", metadata: ["connection": "\(id)", "unsent": "\(unsentBytes)"])
            close(reason: .slowClient)
        }
    }

    /// Sends `connected`, then `reset` when given, then whatever arrived meanwhile: a stream with
    /// nothing to replay goes live. `connected` and `reset` are event bodies without their `id:`,
    /// which is the stream's token.
    func activate(connected: ByteBuffer, reset: ByteBuffer?, advancing: [(Address, StreamPosition)], logger: Logger) {
        eventLoop.assertInEventLoop()
        guard let held = machine.activate() else { return }
        append(connected)
        goLive(held, reset: reset, advancing: advancing, logger: logger)
    }

    /// Starts a replay: `connected` leaves with the first page.
    func beginReplay(connected: ByteBuffer) {
        eventLoop.assertInEventLoop()
        guard machine.beginReplay() else { return }
        append(connected)
    }

    /// Writes the next page of the backlog (oldest first), in slices of half the bound, as long as the
    /// channel takes them; what is left waits until the client has read enough (`writabilityChanged`).
    /// `written(true)` once the whole page is with the channel and it takes more: time for the next
    /// page. `written(false)` if the stream ended.
    func replay(_ page: [OutboundEvent], written: @escaping @Sendable (Bool) -> Void) {
        eventLoop.assertInEventLoop()
        guard machine.startPage(ReplayPage(events: page[...], written: written)) else { return written(false) }
        writeReplayPage()
    }

    private func writeReplayPage() {
        guard var page = machine.takePage() else { return }
        while machine.isOpen {
            while isWritable, let event = page.events.popFirst() {
                send(event)
                if let tag = event.streamTag, let position = event.position { floor.advance(tag: tag, to: position) }
                if let outbox, outbox.readableBytes >= maxBufferedBytes / 2 { write() }
            }
            write()
            guard isWritable else {
                if !machine.park(page) { page.written(false) }
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
        guard let held = machine.finishReplay() else { return }
        goLive(held, reset: reset, advancing: advancing, logger: logger)
    }

    private func goLive(_ held: [OutboundEvent], reset: ByteBuffer?, advancing: [(Address, StreamPosition)], logger: Logger) {
        if let reset {
            // The client reloads its state: skip what was missed, stand at the newest kept event.
            for (stream, position) in advancing { token.advance(stream, to: position) }
            append(reset)
        }
        // Those at or behind the floor were replayed.
        for event in held { send(event) }
        flush(logger: logger)
    }

    /// Outboxes are plain heap buffers, as the channel's allocator would give: asked of the channel on
    /// every delivery, it was a call through the `Channel` existential and a lock.
    private static let allocator = ByteBufferAllocator()

    /// `id: <token>` and the shared event bytes, into the outbox. Returns true if it was empty.
    @discardableResult
    private func append(_ body: ByteBuffer) -> Bool {
        var spare: ByteBuffer?
        return appendID(then: body, spare: &spare)
    }

    /// Bytes as they are, into the outbox.
    private func appendBytes(_ bytes: ByteBuffer) {
        if outbox == nil { outbox = bytes } else { outbox!.writeImmutableBuffer(bytes) }
    }

    /// `id: <token>` alone: moves the client's last event id without an event.
    private func appendID() -> Bool {
        var spare: ByteBuffer?
        return appendID(then: nil, spare: &spare)
    }

    /// `id: <token>`, then `body` or the blank line that ends an event without one. The outbox is taken
    /// out, written and put back: two accesses to the stream's state rather than one per piece, each of
    /// which Swift checks for exclusivity at run time.
    private func appendID(then body: ByteBuffer?, spare: inout ByteBuffer?) -> Bool {
        var buffer: ByteBuffer
        let wasEmpty: Bool
        if let existing = outbox.take() {
            buffer = existing
            wasEmpty = false
        } else if let lent = spare.take() {
            buffer = lent
            wasEmpty = true
        } else {
            buffer = Self.allocator.buffer(capacity: (body?.readableBytes ?? 2) + 6 + 24 * token.positions.count)
            wasEmpty = true
        }
        token.writeIDLine(to: &buffer)
        if let body {
            buffer.writeImmutableBuffer(body)
        } else {
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        outbox = buffer
        return wasEmpty
    }

    /// Called from the stream's handler when the channel's writability flips: a replayed page that
    /// waited for the client to read goes on.
    func writabilityChanged(_ isWritable: Bool) {
        self.isWritable = isWritable
        guard isWritable else { return }
        machine.clientRead()
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
        guard case .close(let flushFirst, let page) = machine.close(reason) else { return }
        outbox = nil
        // Not activated yet: the response head still waits for `connected`. The client gets it
        // before the close, so it sees a stream that ended rather than a connection dropped.
        if flushFirst { channel.flush() }
        channel.close(promise: nil)
        page?.written(false)
    }

    /// Marks the connection closed after the peer went away.
    func markClosed() {
        eventLoop.assertInEventLoop()
        guard case .close(_, let page) = machine.close(nil) else { return }
        outbox = nil
        page?.written(false)
    }
}
