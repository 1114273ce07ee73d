import ClientRuntime
import Logging

/// A Redis client over one hiredis connection, usable from any task or thread.
///
/// hiredis is blocking and not thread-safe, so the connection lives on a dedicated thread of its
/// own (a `ConnectionThread`): no NIO event loop or cooperative-pool thread ever blocks on Redis.
/// Commands run in the order they were submitted (FIFO); those that queue up while the thread is
/// busy go out together on its next turn, as one pipeline (`RedisConnection.serve`). `enqueue` queues
/// a command synchronously, so a caller can issue many in order without awaiting each; `command`
/// queues before it first suspends, so commands awaited one after another keep their order too.
///
/// It connects on the first command (or `connect()`), and after a lost connection reconnects by
/// itself on a later command; see `RedisConnection` for the backoff. Call `shutdown()` when done.
///
/// Cancelling a task that awaits a reply does not withdraw its command: once queued, a command
/// runs, so that the order of commands stays what the caller issued. `commandTimeout` bounds it;
/// when one times out, the commands queued behind it fail with `.timeout` unsent, so that behind a
/// stalled server no caller waits much longer than one timeout.
public final class RedisClient: Sendable {
    let thread = ConnectionThread<RedisJob>()  // internal for tests, which check that it ends
    private let connection: RedisConnection

    public init(configuration: RedisConfiguration, logger: Logger) {
        connection = RedisConnection(configuration: configuration, logger: logger)
        thread.start { [connection] jobs in connection.serve(jobs) }
    }

    deinit {
        // Not shut down: the thread runs what is queued, frees the context and ends by itself.
        thread.queue.close()
    }

    /// Whether the last attempt to connect, or the last command, left a working connection.
    /// A connection the server closed is noticed only by the next command.
    public var isConnected: Bool { connection.status.isConnected }

    /// Why the client is not connected (nil while it is), for a readiness probe.
    public var lastError: String? { connection.status.lastError }

    /// Connects now instead of on the first command; throws `.notConnected` with the reason if it
    /// cannot. Tries even while backing off after failed attempts. Does nothing when connected.
    public func connect() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            submit(
                { connection throws(RedisError) in try connection.connect() },
                then: { continuation.resume(with: $0) })
        }
    }

    /// Runs one command. An error reply throws `RedisError.server` with the server's message.
    public func command(_ args: [String]) async throws -> RedisValue {
        try await enqueue(args).value
    }

    /// Runs one command. An error reply throws `RedisError.server` with the server's message.
    public func command(_ args: String...) async throws -> RedisValue {
        try await command(args)
    }

    /// Runs one command given as raw bytes, for keys and values that are not text or contain NUL.
    public func command(bytes args: [[UInt8]]) async throws -> RedisValue {
        try await enqueue(bytes: args).value
    }

    /// Queues a command now, without suspending, and returns a handle to await its reply later.
    /// Commands enqueued one after another run in that order, which a task group cannot promise.
    public func enqueue(_ args: [String]) -> RedisPendingReply {
        enqueue(bytes: args.map { Array($0.utf8) })
    }

    /// Queues a command given as raw bytes; see `enqueue(_:)`.
    public func enqueue(bytes args: [[UInt8]]) -> RedisPendingReply {
        let pending = RedisPendingReply()
        guard !args.isEmpty else {
            pending.fulfil(.failure(Self.emptyCommand))
            return pending
        }
        pipeline(bytes: [args]) { result in
            pending.fulfil(result.flatMap { replies in
                if case .error(let message) = replies[0] { return .failure(.server(message)) }
                return .success(replies[0])
            })
        }
        return pending
    }

    /// Sends all commands before reading any reply (one round trip) and returns the replies in
    /// order. Error replies come back in place as `.error`; a connection failure throws.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisValue] {
        try await pipeline(bytes: commands.map { $0.map { Array($0.utf8) } })
    }

    /// `pipeline(_:)` with commands given as raw bytes.
    public func pipeline(bytes commands: [[[UInt8]]]) async throws -> [RedisValue] {
        try await withCheckedThrowingContinuation { continuation in
            pipeline(bytes: commands) { continuation.resume(with: $0) }
        }
    }

    /// `pipeline(_:)` for callers that do not await: `completion` gets the replies (or the failure) on
    /// the client's thread, right after the round trip, so it must not block. A caller that sends
    /// pipeline after pipeline saves the hop through a task executor on each.
    public func pipeline(
        _ commands: [[String]], completion: @escaping @Sendable (Result<[RedisValue], RedisError>) -> Void
    ) {
        pipeline(bytes: commands.map { $0.map { Array($0.utf8) } }, completion: completion)
    }

    /// `pipeline(_:completion:)` with commands given as raw bytes.
    public func pipeline(
        bytes commands: [[[UInt8]]], completion: @escaping @Sendable (Result<[RedisValue], RedisError>) -> Void
    ) {
        if commands.isEmpty { return completion(.success([])) }
        guard commands.allSatisfy({ !$0.isEmpty }) else { return completion(.failure(Self.emptyCommand)) }
        if !thread.queue.append(.pipeline(commands: commands, queuedAt: .now, completion: completion)) {
            completion(.failure(.notConnected(RedisConnection.shutDownReason)))
        }
    }

    /// Frees the connection and ends the worker thread once the commands queued before this call
    /// have run. Later commands throw `.notConnected`. Calling it again does nothing.
    public func shutdown() async {
        await thread.stop()
    }

    /// Runs `work` on the worker thread, after everything submitted before it, and passes its
    /// result to `completion` there. Once the worker has stopped, fails with `.notConnected`.
    private func submit<Value: Sendable>(
        _ work: @escaping @Sendable (RedisConnection) throws(RedisError) -> Value,
        then completion: @escaping @Sendable (Result<Value, RedisError>) -> Void
    ) {
        let job = RedisJob.work { connection in
            completion(Result { () throws(RedisError) in try work(connection) })
        }
        if !thread.queue.append(job) {
            completion(.failure(.notConnected(RedisConnection.shutDownReason)))
        }
    }

    /// Redis ignores an empty command without replying, so it would hang until the timeout.
    private static let emptyCommand = RedisError.protocolError("a command needs at least its name")
}
