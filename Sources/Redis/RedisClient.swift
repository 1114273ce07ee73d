import ClientRuntime
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A Redis client with one connection per event loop of a group, usable from any task or thread.
///
/// A caller on one of the group's loops uses that loop's connection: its commands are written, and
/// their replies read and handed back, on the caller's own thread, with no hand-off. Any other caller
/// (a task, another thread) uses the first loop's connection. hiredis parses the replies; the sockets
/// are SwiftNIO's (`RedisConnection`).
///
/// Order: the commands of one caller run in the order it submitted them (one loop, or the first
/// loop's connection for everyone else). Commands from two loops go over two connections, so they keep
/// no order between them; a caller that needs one (the `Router`, the `RegistrationQueue`) has at most
/// one batch with Redis at a time, and the next starts only once the previous has been answered.
/// `enqueue` queues a command synchronously, so a caller can issue many in order without awaiting each.
///
/// It connects on the first command (or `connect()`), and after a lost connection reconnects by itself
/// on a later command; see `RedisConnection` for the backoff. Call `shutdown()` when done.
///
/// Cancelling a task that awaits a reply does not withdraw its command: once queued, a command runs.
/// `commandTimeout` bounds the wait: when a connection with commands in flight hears nothing from the
/// server for that long, it is dropped and everything in flight on it fails with `.timeout`, so that
/// behind a stalled server no caller waits much longer than one timeout.
public final class RedisClient: Sendable {
    private let connections: [RedisConnection]
    private let status = ConnectionStatus(initialReason: "not connected yet") { RedisError.notConnected($0) }
    private let hasShutDown = Atomic<Bool>(false)

    /// The loop of clients made without a group (tools, tests): one thread of their own, so that what
    /// they do never delays the loops of `MultiThreadedEventLoopGroup.singleton`, which other code uses.
    public static let defaultEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Connections are made lazily, one per loop of `eventLoopGroup` as each loop first uses one.
    public init(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup = RedisClient.defaultEventLoopGroup, logger: Logger
    ) {
        connections = eventLoopGroup.makeIterator().map { [status] loop in
            RedisConnection(eventLoop: loop, configuration: configuration, status: status, logger: logger)
        }
    }

    deinit {
        // Not shut down: the connections close, failing what they still hold.
        guard !hasShutDown.load(ordering: .relaxed) else { return }
        for connection in connections {
            connection.eventLoop.execute { connection.abandon() }
        }
    }

    /// Whether the last attempt to connect, or the last command, left a working connection.
    public var isConnected: Bool { status.isConnected }

    /// Why the client is not connected (nil while it is), for a readiness probe.
    public var lastError: String? { status.lastError }

    /// Connects every loop's connection now instead of on their first commands; throws `.notConnected`
    /// with the reason if one cannot. Tries even while backing off after failed attempts.
    public func connect() async throws {
        let attempts = connections.map { connection in
            let promise = connection.eventLoop.makePromise(of: Void.self)
            connection.eventLoop.execute {
                connection.connect { promise.completeWith($0.mapError { $0 as any Error }) }
            }
            return promise.futureResult
        }
        for attempt in attempts { try await attempt.get() }
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
        let connection = self.connection
        let promise = connection.eventLoop.makePromise(of: RedisValue.self)
        guard !args.isEmpty else {
            promise.fail(Self.emptyCommand)
            return RedisPendingReply(future: promise.futureResult)
        }
        submit([args], to: connection) { result in
            switch result {
            case .success(let replies):
                if case .error(let message) = replies[0] { return promise.fail(RedisError.server(message)) }
                promise.succeed(replies[0])
            case .failure(let error):
                promise.fail(error)
            }
        }
        return RedisPendingReply(future: promise.futureResult)
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
    /// the connection's loop, which is the caller's own when it called from one of the group's loops;
    /// it must not block.
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
        submit(commands, to: connection, completion: completion)
    }

    /// Closes every connection once the commands queued before this call have run. Later commands
    /// throw `.notConnected`. Calling it again does nothing.
    public func shutdown() async {
        hasShutDown.store(true, ordering: .relaxed)
        let closed = connections.map { connection in
            let promise = connection.eventLoop.makePromise(of: Void.self)
            connection.eventLoop.execute { connection.shutdown(promise: promise) }
            return promise.futureResult
        }
        for future in closed { try? await future.get() }
    }

    /// The calling loop's connection, or the first loop's for a caller on no loop of the group.
    private var connection: RedisConnection {
        if connections.count > 1 {
            for connection in connections where connection.eventLoop.inEventLoop { return connection }
        }
        return connections[0]
    }

    private func submit(
        _ commands: [[[UInt8]]], to connection: RedisConnection,
        completion: @escaping @Sendable (Result<[RedisValue], RedisError>) -> Void
    ) {
        if connection.eventLoop.inEventLoop {
            connection.submit(commands, completion: completion)
        } else {
            connection.eventLoop.execute { connection.submit(commands, completion: completion) }
        }
    }

    /// Redis ignores an empty command without replying, so it would hang until the timeout.
    private static let emptyCommand = RedisError.protocolError("a command needs at least its name")
}
