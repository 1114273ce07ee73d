/// What happened to a client's stalled first connection once it started reading again.
struct StallOutcome: Sendable, Encodable {
    /// Events read on the stalled stream after reading resumed: what piled up in the socket buffers
    /// (plus live events, if the server never closed the stream).
    var eventsDrained = 0
    /// The server had closed the connection: the stream ended after the drain (EOF or reset).
    var disconnectedByServer = false
    /// Seconds from resuming reading to the end of the stream.
    var secondsToEnd: Double?
}
