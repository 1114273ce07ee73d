import Logging
import NIOCore

/// The connections that live on one event loop, indexed by id, user and channel.
/// Everything here runs on `eventLoop`, so delivery needs no locks and no task per connection.
final class HubShard: @unchecked Sendable {
    let eventLoop: EventLoop
    private let logger: Logger
    private var connections: [String: SSEConnection] = [:]
    private var byUser: [String: [String: SSEConnection]] = [:]
    private var byChannel: [String: [String: SSEConnection]] = [:]
    private var heartbeat: RepeatedTask?

    init(eventLoop: EventLoop, logger: Logger) {
        self.eventLoop = eventLoop
        self.logger = logger
    }

    var count: Int {
        eventLoop.assertInEventLoop()
        return connections.count
    }

    func add(_ connection: SSEConnection) {
        eventLoop.assertInEventLoop()
        connections[connection.id] = connection
        if let user = connection.record.user {
            byUser[user, default: [:]][connection.id] = connection
        }
        for channel in connection.record.channels {
            byChannel[channel, default: [:]][connection.id] = connection
        }
    }

    /// Returns false if the connection was not here (already removed).
    @discardableResult
    func remove(_ connection: SSEConnection) -> Bool {
        eventLoop.assertInEventLoop()
        guard connections.removeValue(forKey: connection.id) != nil else { return false }
        if let user = connection.record.user {
            byUser[user]?.removeValue(forKey: connection.id)
            if byUser[user]?.isEmpty == true { byUser.removeValue(forKey: user) }
        }
        for channel in connection.record.channels {
            byChannel[channel]?.removeValue(forKey: connection.id)
            if byChannel[channel]?.isEmpty == true { byChannel.removeValue(forKey: channel) }
        }
        return true
    }

    /// Writes the already-encoded event to every local connection its target names.
    func deliver(_ event: OutboundEvent) {
        eventLoop.assertInEventLoop()
        switch event.target {
        case .connection(let id):
            connections[id]?.deliver(event, logger: logger)
        case .user(let user):
            byUser[user]?.values.forEach { $0.deliver(event, logger: logger) }
        case .channel(let name):
            byChannel[name]?.values.forEach { $0.deliver(event, logger: logger) }
        case .broadcast:
            connections.values.forEach { $0.deliver(event, logger: logger) }
        }
    }

    /// One timer per event loop writes the same comment to all its streams: no timer per connection.
    func startHeartbeat(every interval: TimeAmount, comment: ByteBuffer) {
        heartbeat = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            connections.values.forEach { $0.sendControl(comment, logger: logger) }
        }
    }

    func stopHeartbeat() {
        heartbeat?.cancel()
        heartbeat = nil
    }

    var records: [ConnectionRecord] {
        eventLoop.assertInEventLoop()
        return connections.values.map(\.record)
    }

    /// Tells every stream when to come back (`retry:`) and closes each at a random moment within
    /// `window`, so clients reconnect to the other nodes spread out instead of all at once.
    func drain(within window: TimeAmount, retryMillis: Int) {
        eventLoop.assertInEventLoop()
        for connection in connections.values {
            let delay = TimeAmount.nanoseconds(Int64.random(in: 0...max(0, window.nanoseconds)))
            // Sooner than the usual hint: come back now, to another node.
            let hint = Self.retryHint(Int.random(in: 100...max(100, retryMillis - 1)))
            eventLoop.scheduleTask(in: delay) { [logger] in
                connection.sendControl(hint, logger: logger)
                connection.close()
            }
        }
    }

    private static func retryHint(_ millis: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("retry: \(millis)\n\n")
        return buffer
    }

    /// Closes every stream; each one's cleanup runs as its channel goes inactive.
    func closeAll() {
        eventLoop.assertInEventLoop()
        connections.values.forEach { $0.close() }
    }
}
