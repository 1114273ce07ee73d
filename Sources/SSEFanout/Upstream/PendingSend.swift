import NIOCore

/// A send or upload between its head and its answer (`UpstreamRoutes.swift`), as the connection's
/// `HTTPConnectionStateMachine` holds it.
enum PendingSend {
    /// On its way to RabbitMQ: its body is being read and held (nil until the first piece).
    case holding(SendRequest, BodyReservation, body: ByteBuffer?)
    /// On its way to the HTTP backend: its body goes on as it arrives, and the forward answers.
    case forwarding(ForwardedSend)
    /// Answered before its body was read through (refused from its head, refused because the node held
    /// too much, or answered by the backend early): its body is read and dropped, then the answer is
    /// sent, so a browser still sending gets it instead of a reset connection.
    case dropping(SendAnswer, dropped: Int)
}
