/// Why a stream ended: said to the client in its last event when the server ends it on purpose, and to
/// backends in the `connection.closed` lifecycle event.
public enum CloseReason: String, Sendable, Hashable, CaseIterable {
    /// The client went away.
    case clientClosed = "client_closed"
    /// A backend kicked it (`POST /disconnect`).
    case kicked
    /// Its token expired.
    case expired
    /// It fell more than `sse.maxBufferedBytes` behind.
    case slowClient = "slow_client"
    /// Its node is shutting down.
    case drain
    /// Its node died; the reaper closed its records.
    case nodeDied = "node_died"
    /// Over the per-user connection limit: the oldest stream made way for a new one.
    case replaced
    /// The node could not serve it (history unreadable while resuming).
    case unavailable
}
