import NIOCore

/// A command already queued on a `RedisClient`, returned by `enqueue`. Await `value` for its reply
/// (several tasks may), or drop it to fire and forget: the command runs either way.
public struct RedisPendingReply: Sendable {
    /// Completed on the loop of the connection that ran the command.
    public let future: EventLoopFuture<RedisValue>

    init(future: EventLoopFuture<RedisValue>) {
        self.future = future
    }

    /// The reply, once the command has run. An error reply throws `RedisError.server`.
    public var value: RedisValue {
        get async throws {
            try await future.get()
        }
    }
}
