import ClientRuntime

/// A command already queued on a `RedisClient`, returned by `enqueue`. Await `value` for its reply
/// (several tasks may), or drop it to fire and forget: the command runs either way.
public struct RedisPendingReply: Sendable {
    private let reply = OneShot<RedisValue, RedisError>()

    init() {}

    /// The reply, once the command has run. An error reply throws `RedisError.server`.
    public var value: RedisValue {
        get async throws {
            try await reply.value
        }
    }

    /// Called once, from the worker thread, when the command has run.
    func fulfil(_ result: Result<RedisValue, RedisError>) {
        reply.complete(result)
    }
}
