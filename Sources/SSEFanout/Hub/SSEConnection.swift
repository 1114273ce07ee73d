import Logging
import NIOCore

/// One open event stream. Its mutable state is touched only on its channel's event loop.
final class SSEConnection: @unchecked Sendable {
    let record: ConnectionRecord
    let channel: Channel
    private(set) var isOpen = true
    /// Events that arrive before the `connected` event was sent wait here, so `connected` is always first.
    private var pending: [ByteBuffer]? = []
    private static let maxPending = 1024

    var id: String { record.connectionID }
    var eventLoop: EventLoop { channel.eventLoop }

    init(record: ConnectionRecord, channel: Channel) {
        self.record = record
        self.channel = channel
    }

    /// Queues `buffer` and flushes. A client whose unsent bytes passed the channel's high water mark
    /// has fallen too far behind: it is disconnected (it can resume later) so it never holds up others.
    /// Returns false when the connection is (now) closed.
    @discardableResult
    func send(_ buffer: ByteBuffer, logger: Logger) -> Bool {
        eventLoop.assertInEventLoop()
        guard isOpen else { return false }
        if pending != nil {
            guard pending!.count < Self.maxPending else {
                logger.warning("closing stream: too many events before it was registered", metadata: ["connection": "\(id)"])
                close()
                return false
            }
            pending!.append(buffer)
            return true
        }
        guard channel.isWritable else {
            logger.warning("closing slow client: send buffer full", metadata: ["connection": "\(id)"])
            close()
            return false
        }
        channel.writeAndFlush(buffer, promise: nil)
        return true
    }

    /// Sends the `connected` event, then whatever arrived while the stream was being registered.
    func activate(with connected: ByteBuffer, logger: Logger) {
        eventLoop.assertInEventLoop()
        guard let waiting = pending else { return }
        pending = nil
        send(connected, logger: logger)
        for buffer in waiting { send(buffer, logger: logger) }
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
