/// What a `RedisClient` hands its connection's thread, in order.
enum RedisJob: Sendable {
    /// One caller's commands. Those the thread takes together go out as one pipeline.
    case pipeline(
        commands: [[[UInt8]]], queuedAt: ContinuousClock.Instant,
        completion: @Sendable (Result<[RedisValue], RedisError>) -> Void)
    /// Anything else to do with the connection (connecting on request).
    case work(@Sendable (RedisConnection) -> Void)
}
