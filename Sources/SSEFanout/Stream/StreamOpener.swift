import Foundation
import Logging
import NIOCore

/// Opens and ends this node's streams: adds each to the hub and the registry and, once registered,
/// sends `connected`, then, when resuming, every kept event after its `Last-Event-ID` (or `reset` when
/// some are no longer kept), paced by the client (`BacklogReplay`), then live events; those that
/// arrived meanwhile were held back and are de-duplicated.
final class StreamOpener: Sendable {
    private let nodeID: String
    private let hub: LocalHub
    private let history: any History
    private let registrations: RegistrationQueue
    private let retryMillis: Int
    /// `sse.maxBufferedBytes`: how far a client may fall behind, and about what a replayed page weighs.
    private let maxBufferedBytes: Int
    private let logger: Logger
    private let metrics: NodeMetrics?
    private let unregisteredLog = RateLimitedLog()

    /// Called once a stream is registered (the per-user limit looks at the user's streams then).
    private let registered: @Sendable (ConnectionRecord) -> Void

    init(
        nodeID: String, hub: LocalHub, history: any History, registrations: RegistrationQueue, retryMillis: Int, maxBufferedBytes: Int,
        logger: Logger, metrics: NodeMetrics? = nil, registered: @escaping @Sendable (ConnectionRecord) -> Void = { _ in }
    ) {
        self.registered = registered
        self.metrics = metrics
        self.maxBufferedBytes = maxBufferedBytes
        self.nodeID = nodeID
        self.hub = hub
        self.history = history
        self.registrations = registrations
        self.retryMillis = retryMillis
        self.logger = logger
    }

    func attach(channel: Channel, request: StreamRequest) -> SSEConnection {
        let nowMillis = Int64(Date().timeIntervalSince1970 * 1000)
        let record = ConnectionRecord(
            connectionID: hub.newConnectionID(on: channel.eventLoop), nodeID: nodeID, connectedAt: nowMillis, expiresAt: request.expiresAt, addresses: request.addresses)
        let streams = record.streams
        // A position from the future (a forged or corrupted id) cannot be read from, and would hide every
        // event until then: such a token counts as unreadable, so the stream resets once and starts now.
        let resumed = request.lastEventID.flatMap(ResumeToken.init(text:)).flatMap { token in
            token.positions.allSatisfy { $0.position.milliseconds <= UInt64(nowMillis) + Self.clockSkewMillis } ? token : nil
        }
        // Streams the client did not read before start here and now.
        let now = StreamPosition(milliseconds: UInt64(nowMillis))
        let token = ResumeToken(positions: streams.map { ($0.tag, resumed?.position(of: $0) ?? now) })
        let connection = SSEConnection(
            record: record, channel: channel, token: token,
            resumedFrom: ResumeToken(positions: streams.compactMap { stream in resumed?.position(of: stream).map { (stream.tag, $0) } }),
            maxBufferedBytes: maxBufferedBytes
        )
        let connected = connectedEvent(for: record)
        let logger = self.logger
        let history = self.history
        let resuming = streams.compactMap { stream in resumed?.position(of: stream).map { (stream, $0) } }
        let unreadableToken = request.lastEventID != nil && resumed == nil
        let registrations = self.registrations
        let registered = self.registered
        let unregistered = self.unregisteredLog
        let pageBytes = maxBufferedBytes
        let metrics = self.metrics
        metrics?.opened.increment()
        if unreadableToken { metrics?.resume("reset") }
        hub.add(connection) { joined in
            registrations.enqueue(.register(record, joined: joined)) { error in
                if error != nil {
                    // While Redis is away every stream fails here: a line now and then, not one each.
                    unregistered.note("streams open but not registered", logger: logger)
                } else {
                    registered(record)
                }
                guard !resuming.isEmpty else {
                    let reset = unreadableToken ? Self.resetEvent(reason: "unknown_last_event_id") : nil
                    connection.eventLoop.execute {
                        connection.activate(connected: connected, reset: reset, advancing: [], logger: logger)
                    }
                    return
                }
                let replay = BacklogReplay(connection: connection, connected: connected, logger: logger, metrics: metrics)
                Task { await replay.run(Backlog(resuming, from: history, pageBytes: pageBytes), now: now) }
            }
        }
        logger.debug("stream opened", metadata: ["connection": "\(record.connectionID)", "user": "\(record.user ?? "-")", "resuming": "\(resuming.count)"])
        return connection
    }

    /// Removes a stream whose connection ended, and exactly its registry entries.
    func detach(_ connection: SSEConnection) {
        connection.markClosed()
        let registrations = self.registrations
        // Nil: nobody on this side ended it, so the client did.
        let reason = connection.closeReason ?? .clientClosed
        metrics?.closed(reason)
        hub.remove(connection) { left in
            registrations.enqueue(.unregister(connection.record, left: left, reason: reason))
        }
        logger.debug("stream closed", metadata: ["connection": "\(connection.id)"])
    }

    /// The first event; its id is the stream's resume token, so even a client that saw nothing else
    /// resumes from the moment it connected. Its data: the connection's id, node and identity
    /// (`ConnectionCodec`), when its credential expires and the server's time.
    private func connectedEvent(for record: ConnectionRecord) -> ByteBuffer {
        var info = #"{"connectionId":"#
        JSONString.append(record.connectionID, to: &info)
        info.append(#","nodeId":"#)
        JSONString.append(nodeID, to: &info)
        ConnectionCodec.appendIdentity(record.addresses, tenant: record.tenant, absent: .omitted, to: &info)
        if let expiresAt = record.expiresAt { info.append(#","expiresAt":\#(expiresAt)"#) }
        info.append(#","serverTime":\#(record.connectedAt)}"#)
        return SSEEncoder.encode(id: nil, event: "connected", data: info, retry: retryMillis)
    }

    /// How far ahead of this node's clock a position may be (other nodes' and Redis's clocks differ a little).
    static let clockSkewMillis: UInt64 = 60_000

    /// `event: reset`: the client reloads its state (`unknown_last_event_id`, `history_truncated`).
    static func resetEvent(reason: String) -> ByteBuffer {
        SSEEncoder.encode(id: nil, event: "reset", data: #"{"reason":"\#(reason)"}"#)
    }
}
