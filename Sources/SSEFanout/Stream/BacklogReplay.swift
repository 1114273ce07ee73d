import Logging
import NIOCore

/// Sends a resuming stream what it missed, then makes it live. The backlog goes a page at a time, and
/// the next page is read only once the client has taken the last one (`SSEConnection.replay`), so a
/// client that stops reading costs the node a page and its channel's bound, never its whole backlog,
/// and is closed as a slow client like a live one.
struct BacklogReplay: Sendable {
    let connection: SSEConnection
    /// The stream's first event; it leaves with the first page.
    let connected: ByteBuffer
    let logger: Logger
    /// Counts how resumes end (`sse_resume_total`).
    var metrics: NodeMetrics? = nil

    /// Runs until the stream is live, or closed. `now` is when the stream opened: a reset leaves its
    /// token no earlier than that.
    func run(_ backlog: Backlog, now: StreamPosition) async {
        var backlog = backlog
        var started = false
        var reset: ByteBuffer?
        do {
            pages: while true {
                switch try await backlog.next() {
                case .end:
                    break pages
                case .truncated:
                    // Found at the start or on the way: the client reloads its state from here.
                    reset = StreamOpener.resetEvent(reason: "history_truncated")
                    metrics?.resume("reset")
                    break pages
                case .events(let events):
                    guard await write(events, first: !started) else { return }
                    started = true
                }
            }
        } catch {
            // The client keeps its last id and tries again after `retry`.
            logger.warning(
                "closing resumed stream: history unavailable", metadata: ["connection": "\(connection.id)", "error": "\(error)"])
            connection.eventLoop.execute { connection.close(reason: .unavailable) }
            metrics?.resume("failed")
            return
        }
        if reset == nil { metrics?.resume("resumed") }
        let advancing = backlog.newest(now: now)
        connection.eventLoop.execute { [connection, connected, logger, reset, started] in
            if started {
                connection.finishReplay(reset: reset, advancing: advancing, logger: logger)
            } else {
                connection.activate(connected: connected, reset: reset, advancing: advancing, logger: logger)
            }
        }
    }

    /// One page to the client; false once the stream has ended.
    private func write(_ events: [OutboundEvent], first: Bool) async -> Bool {
        await withCheckedContinuation { continuation in
            connection.eventLoop.execute { [connection, connected] in
                if first { connection.beginReplay(connected: connected) }
                connection.replay(events) { continuation.resume(returning: $0) }
            }
        }
    }
}
