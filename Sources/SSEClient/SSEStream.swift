import NIOCore
import NIOHTTP1
import NIOPosix

/// One open Server-Sent Events connection. The body is parsed on the connection's event loop and events
/// are buffered (without bound) until read through `events` or `next(timeout:)`, from one consumer at a time.
/// Dropping the last reference closes the connection.
public final class SSEStream: Sendable {
    /// The response status; always 200, since `connect` throws for anything else.
    public let status: Int
    /// Response header fields in the order received.
    public let headers: [(String, String)]

    private let channel: any Channel
    private let inbox: SSEEventInbox

    private init(head: HTTPResponseHead, channel: any Channel, inbox: SSEEventInbox) {
        self.status = Int(head.status.code)
        self.headers = head.headers.map { ($0.name, $0.value) }
        self.channel = channel
        self.inbox = inbox
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Opens `url` (`http://host[:port]/path?query`) with `Accept: text/event-stream` and
    /// `Cache-Control: no-cache` plus `headers` (e.g. `Last-Event-ID`, `Origin`; a header of the same name
    /// replaces a default), and returns once a 200 response head arrived.
    ///
    /// Throws `SSEClientError.unexpectedStatus(status, body)` for any other status, after reading its body
    /// (up to 64 KiB); `.timeout` if no response head (or error body) arrived within `timeout`;
    /// `.connectionClosed` if the server closed first; `.invalidURL`; or the connect error.
    public static func connect(
        _ url: String,
        headers: [(String, String)] = [],
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeout: Duration = .seconds(10)
    ) async throws -> SSEStream {
        let url = try HTTPURL(parsing: url)
        let request = HTTPRequestHead(
            method: "GET",
            url: url,
            defaults: [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")],
            headers: headers
        )
        let inbox = SSEEventInbox()
        let (channel, head) = try await HTTPConnector.exchange(url: url, group: eventLoopGroup, timeout: timeout) {
            SSEStreamHandler(request: request, headPromise: $0, inbox: inbox)
        }
        return SSEStream(head: head, channel: channel, inbox: inbox)
    }

    /// The first value of the response header `name`, matched case-insensitively.
    public func header(_ name: String) -> String? {
        headers.firstValue(forHeader: name)
    }

    /// The events in order. Finishes when the response ends or the connection closes (including by
    /// `close()`); throws if the connection failed with an error. One consumer at a time; it shares the
    /// buffer with `next(timeout:)`, and cancelling the consuming task does not close the connection.
    public var events: AsyncThrowingStream<SSEEvent, any Error> {
        AsyncThrowingStream { [self] in
            try await inbox.next(timeout: nil, eventLoop: channel.eventLoop)
        }
    }

    /// Comment lines (heartbeats) received so far.
    public var commentCount: Int { inbox.commentCount }

    /// The last `retry:` value the server sent (milliseconds), dispatched with an event or not.
    public var reconnectionTime: Int? { inbox.reconnectionTime }

    /// Events received so far, whether or not they have been read yet.
    public var eventCount: Int { inbox.eventCount }

    /// Whether a consumer is suspended waiting for an event; lets tests act only once it is.
    var isConsumerWaiting: Bool { inbox.isConsumerWaiting }

    /// Whether the connection is still open.
    public var isOpen: Bool { channel.isActive }

    /// The next event, or nil once the stream has ended. Throws `SSEClientError.timeout` if none arrives
    /// within `timeout`; the stream stays usable after a timeout.
    public func next(timeout: Duration = .seconds(10)) async throws -> SSEEvent? {
        try await inbox.next(timeout: timeout, eventLoop: channel.eventLoop)
    }

    /// Closes the connection and waits until it is closed. Events already received stay readable.
    public func close() async {
        channel.close(promise: nil)
        try? await channel.closeFuture.get()
    }

    /// Returns when the connection is closed, by either side; throws `SSEClientError.timeout` if it is
    /// still open after `timeout`.
    public func waitClosed(timeout: Duration = .seconds(10)) async throws {
        let eventLoop = channel.eventLoop
        let closed = eventLoop.makePromise(of: Void.self)
        channel.closeFuture.cascade(to: closed)
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            closed.fail(SSEClientError.timeout)
        }
        closed.futureResult.whenComplete { _ in timer.cancel() }
        try await closed.futureResult.get()
    }
}
