import Logging
import NIOCore

/// One open event stream. Its mutable state is touched only on its channel's event loop.
final class SSEConnection: @unchecked Sendable {
    let record: ConnectionRecord
    let channel: Channel
    private(set) var isOpen = true
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

    var id: String { record.connectionID }
    /// Kept, not fetched from the channel on every send (an existential call on the hot path).
    let eventLoop: EventLoop

    init(record: ConnectionRecord, channel: Channel, token: ResumeToken, resumedFrom: ResumeToken) {
        self.record = record
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.token = token
        self.resumedFrom = resumedFrom
    }

    /// Writes an event unless this stream already had it: before its resume point, replayed from
    /// history, or a retried publish. Events of one stream may arrive out of position order (two
    /// publishes racing); each is still sent once, and the token keeps the highest position.
    /// Returns false when the connection is (now) closed.
    @discardableResult
    func deliver(_ event: OutboundEvent, logger: Logger) -> Bool {
        eventLoop.assertInEventLoop()
        guard isOpen else { return false }
        if pending != nil {
            guard pending!.count < Self.maxPending else {
                logger.warning("closing stream: too many events before it was ready", metadata: ["connection": "\(id)"])
                close()
                return false
            }
            pending!.append(event)
            return true
        }
        guard !recent.contains(event.eventKey) else { return true }
        if let stream = event.stream, let position = event.position {
            if let floor = resumedFrom.position(of: stream), position <= floor { return true }
            if !replayed.isEmpty, replayed.contains(HistoryPosition(stream: stream, position: position)) { return true }
            token.advance(stream, to: position)
        }
        recent.insert(event.eventKey)
        return write(SSEEncoder.idLine(token.text, allocator: channel.allocator), event.body, logger: logger)
    }

    /// Bytes that are no event and carry no id: a heartbeat comment, a bare `retry:` hint.
    /// Not sent before the stream is activated.
    func sendControl(_ comment: ByteBuffer, logger: Logger) {
        eventLoop.assertInEventLoop()
        guard isOpen, pending == nil else { return }
        write(comment, logger: logger)
    }

    /// Sends `connected`, then `reset` or the replayed backlog, then whatever arrived meanwhile.
    /// `connected` and `reset` are event bodies without their `id:`, which is the stream's token.
    func activate(connected: ByteBuffer, reset: ByteBuffer?, backlog: [OutboundEvent], advancing: [(HistoryStream, StreamPosition)], logger: Logger) {
        eventLoop.assertInEventLoop()
        guard let waiting = pending else { return }
        pending = nil
        guard write(SSEEncoder.idLine(token.text, allocator: channel.allocator), connected, logger: logger) else { return }
        if let reset {
            // The client reloads its state: skip what was missed, stand at the newest kept event.
            for (stream, position) in advancing { token.advance(stream, to: position) }
            write(SSEEncoder.idLine(token.text, allocator: channel.allocator), reset, logger: logger)
        } else {
            for event in backlog {
                deliver(event, logger: logger)
                if let stream = event.stream, let position = event.position {
                    replayed.insert(HistoryPosition(stream: stream, position: position))
                }
            }
        }
        for event in waiting { deliver(event, logger: logger) }
        // Later live events were published after the backlog was read.
        replayed = []
    }

    /// A client whose unsent bytes passed the channel's high water mark has fallen too far behind:
    /// it is disconnected (it resumes later with its last id) so it never holds up the others.
    @discardableResult
    private func write(_ first: ByteBuffer, _ second: ByteBuffer? = nil, logger: Logger) -> Bool {
        guard isOpen else { return false }
        guard channel.isWritable else {
            logger.warning("closing slow client: send buffer full", metadata: ["connection": "\(id)"])
            close()
            return false
        }
        channel.write(first, promise: nil)
        if let second { channel.write(second, promise: nil) }
        channel.flush()
        return true
    }

    func close() {
        eventLoop.assertInEventLoop()
        guard isOpen else { return }
        isOpen = false
        channel.close(promise: nil)
    }

    /// Marks the connection closed after the peer went away.
    func markClosed() {
        eventLoop.assertInEventLoop()
        isOpen = false
    }
}
