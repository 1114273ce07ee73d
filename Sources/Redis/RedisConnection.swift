import ClientRuntime
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection to Redis, living on one event loop: its socket is a SwiftNIO channel there, hiredis
/// parses the replies (`HiredisReader`), and every method runs on that loop, so nothing is locked
/// and a caller on the loop writes, reads and is answered there without another thread.
///
/// Commands go out in the order they are submitted, as soon as they are (several callers' commands in
/// one tick share one write); replies come back in that order, and each caller gets its own.
///
/// Reconnect policy: a broken connection is dropped when it breaks (the server closed it, a reply did
/// not come within `commandTimeout`); the next command connects again at once. Each failed attempt then
/// starts a backoff (`ReconnectBackoff`) during which commands fail fast with `.notConnected`; the first
/// command after it tries again.
final class RedisConnection: @unchecked Sendable {  // Sendable to be reached from other threads through `eventLoop`; its state is touched on the loop only.
    typealias Completion = @Sendable (Result<[RedisValue], RedisError>) -> Void

    /// One caller's commands: written together, answered together.
    private struct Outstanding {
        var count: Int
        var replies: [RedisValue] = []
        let completion: Completion
    }

    private enum Phase {
        /// No connection; the next command connects, unless a backoff runs.
        case idle
        /// Connecting, then AUTH and SELECT; commands wait in `waiting`.
        case connecting
        case ready
        /// Shut down for good.
        case closed
    }

    static let shutDownReason = "the client has been shut down"

    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let logger: Logger
    private let status: ConnectionStatus

    private var phase = Phase.idle
    /// The channel being connected, or the connected one.
    private var channel: (any Channel)?
    /// Submitted while connecting: written once connected.
    private var waiting: [(commands: [[[UInt8]]], outstanding: Outstanding)] = []
    /// `connect()` calls waiting for the connection being made.
    private var connectWaiters: [@Sendable (Result<Void, RedisError>) -> Void] = []
    /// Written, awaiting replies, oldest first.
    private var inFlight = CircularBuffer<Outstanding>()
    private var backoff: ReconnectBackoff
    /// While in the future, commands fail fast instead of trying to connect.
    private var nextAttempt: NIODeadline?
    private var lastConnectFailure = ""
    private var timer: Scheduled<Void>?
    /// When the server last showed it is working through what was sent: a reply came, or the first
    /// command went out to an idle connection. `commandTimeout` of silence after it is a stall.
    private var lastProgress = NIODeadline.now()
    private var flushScheduled = false
    private var shutdownWaiters: [EventLoopPromise<Void>] = []
    private var isShuttingDown = false
    /// Where the primary is, with Redis Sentinel; nil when the configuration names the server.
    private let sentinels: SentinelQuery?
    /// The server connected to, or being connected to.
    private var server: RedisEndpoint
    /// With sentinels: asks them every `sentinelCheckInterval` whether `server` is still the primary.
    private var primaryCheck: RepeatedTask?

    init(eventLoop: any EventLoop, configuration: RedisConfiguration, status: ConnectionStatus, logger: Logger) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.status = status
        var logger = logger
        logger[metadataKey: "redis"] = "\(configuration.endpoint)"
        self.logger = logger
        backoff = ReconnectBackoff(initial: configuration.reconnectBackoffInitial, maximum: configuration.reconnectBackoffMaximum)
        server = RedisEndpoint(host: configuration.host, port: configuration.port)
        sentinels = configuration.sentinels.isEmpty ? nil : SentinelQuery(eventLoop: eventLoop, configuration: configuration, logger: logger)
    }

    // MARK: - Callers (on the loop)

    /// Writes `commands` (connecting first if needed); `completion` gets their replies, on this loop.
    func submit(_ commands: [[[UInt8]]], completion: @escaping Completion) {
        eventLoop.preconditionInEventLoop()
        let outstanding = Outstanding(count: commands.count, completion: completion)
        if isShuttingDown { return completion(.failure(.notConnected(Self.shutDownReason))) }
        switch phase {
        case .ready:
            write(commands, outstanding)
        case .connecting:
            waiting.append((commands, outstanding))
        case .idle:
            if let nextAttempt, nextAttempt > .now() {
                let remaining = (nextAttempt - .now()).nanoseconds / 1_000_000
                return completion(.failure(.notConnected("\(lastConnectFailure) (next attempt in \(remaining) ms)")))
            }
            waiting.append((commands, outstanding))
            startConnecting()
        case .closed:
            completion(.failure(.notConnected(Self.shutDownReason)))
        }
    }

    /// Connects now if not connected, even while backing off: an explicit request to try.
    func connect(completion: @escaping @Sendable (Result<Void, RedisError>) -> Void) {
        eventLoop.preconditionInEventLoop()
        if isShuttingDown { return completion(.failure(.notConnected(Self.shutDownReason))) }
        switch phase {
        case .ready: completion(.success(()))
        case .connecting: connectWaiters.append(completion)
        case .idle:
            connectWaiters.append(completion)
            startConnecting()
        case .closed: completion(.failure(.notConnected(Self.shutDownReason)))
        }
    }

    /// Closes the connection once everything submitted before has been answered; later commands fail
    /// with `.notConnected`.
    func shutdown(promise: EventLoopPromise<Void>) {
        eventLoop.preconditionInEventLoop()
        if phase == .closed { return promise.succeed() }
        isShuttingDown = true
        shutdownWaiters.append(promise)
        closeIfDrained()
    }

    /// Closes at once, failing what is outstanding: the client was released without a shutdown.
    func abandon() {
        eventLoop.preconditionInEventLoop()
        isShuttingDown = true
        fail(inFlight: .notConnected(Self.shutDownReason), waiting: .notConnected(Self.shutDownReason))
        finish()
    }

    // MARK: - The channel (its handler calls these on the loop)

    func received(_ reply: RedisValue, on channel: any Channel) {
        guard isCurrent(channel) else { return }
        guard !inFlight.isEmpty else {
            return drop(after: .protocolError("a reply nobody asked for"))
        }
        lastProgress = .now()
        inFlight[inFlight.startIndex].replies.append(reply)
        if inFlight[inFlight.startIndex].replies.count == inFlight[inFlight.startIndex].count {
            let answered = inFlight.removeFirst()
            answered.completion(.success(answered.replies))
        }
        // A primary that a failover made a replica refuses writes: with sentinels, find the new one.
        if sentinels != nil, case .error(let message) = reply, message.hasPrefix("READONLY"), isCurrent(channel) {
            return drop(after: .connectionLost("\(server) is a replica now (READONLY); asking the sentinels for the primary"))
        }
        closeIfDrained()
    }

    func unreadable(_ error: RedisError, on channel: any Channel) {
        guard isCurrent(channel) else { return }
        drop(after: error)
    }

    func closed(_ channel: any Channel, error: (any Error)?) {
        guard isCurrent(channel) else { return }
        let reason = error.map(Self.describe) ?? "the server closed the connection"
        drop(after: .connectionLost(reason))
    }

    // MARK: - Connecting

    private func startConnecting() {
        phase = .connecting
        guard let sentinels else { return connect(to: server) }
        sentinels.primary { [self] result in
            guard phase == .connecting else { return }
            switch result {
            case .success(let primary): connect(to: primary)
            case .failure(.notConnected(let reason)): connectFailed(reason)
            case .failure(let error): connectFailed("\(error)")
            }
        }
    }

    private func connect(to server: RedisEndpoint) {
        self.server = server
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            // Keepalive notices a peer that vanished without closing the socket.
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisReplyHandler(connection: self))
                }
            }
        // An address given as such connects at once; a name is resolved first (getaddrinfo, off the loop).
        let connecting =
            if let address = try? SocketAddress(ipAddress: server.host, port: server.port) {
                bootstrap.connect(to: address)
            } else {
                bootstrap.connect(host: server.host, port: server.port)
            }
        connecting.whenComplete { [self] result in
            switch result {
            case .success(let channel): connected(channel)
            case .failure(let error): connectFailed("cannot connect to \(server): \(Self.describe(error))")
            }
        }
    }

    private func connected(_ channel: any Channel) {
        guard phase == .connecting, !(isShuttingDown && waiting.isEmpty && connectWaiters.isEmpty) else {
            channel.close(promise: nil)
            return closeIfDrained()
        }
        self.channel = channel
        let preparation = preparation
        guard !preparation.isEmpty else { return becomeReady() }
        write(preparation.map(\.command), Outstanding(count: preparation.count) { [self] result in
            switch result {
            case .failure(let error):
                connectFailed("\(preparation[0].name) on \(configuration.endpoint) failed: \(error)")
            case .success(let replies):
                for (step, reply) in zip(preparation, replies) {
                    if case .error(let message) = reply {
                        return connectFailed("\(step.name) on \(configuration.endpoint) was refused: \(message)")
                    }
                    if step.name == "ROLE", reply.array?.first?.string != "master" {
                        return connectFailed("\(server), named by the sentinels, is not the primary (ROLE: \(reply.array?.first?.string ?? "?"))")
                    }
                }
                becomeReady()
            }
        })
    }

    /// AUTH and SELECT, which every new connection needs before it can run commands.
    private var preparation: [(name: String, command: [[UInt8]])] {
        var steps: [(String, [[UInt8]])] = []
        if let password = configuration.password {
            steps.append(("AUTH", (["AUTH"] + [configuration.username, password].compactMap { $0 }).map { Array($0.utf8) }))
        }
        // A new connection starts in database 0, so SELECT 0 would only cost a round trip.
        if configuration.database != 0 {
            steps.append(("SELECT", [Array("SELECT".utf8), Array("\(configuration.database)".utf8)]))
        }
        // What a sentinel named may have stopped being the primary since (the specification's check).
        if sentinels != nil { steps.append(("ROLE", [Array("ROLE".utf8)])) }
        return steps
    }

    private func becomeReady() {
        phase = .ready
        backoff.reset()
        nextAttempt = nil
        status.markConnected()
        logger.info("connected to Redis", metadata: sentinels == nil ? nil : ["primary": "\(server)"])
        if let sentinels {
            let interval = TimeAmount(configuration.sentinelCheckInterval)
            primaryCheck = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
                let checked = channel
                sentinels.primary { [self] result in
                    // Not answered: keep the connection, which works as far as anyone knows.
                    guard case .success(let primary) = result, let checked, isCurrent(checked), primary != server else { return }
                    drop(after: .connectionLost("the sentinels name \(primary) as the primary now, not \(server)"))
                }
            }
        }
        let waiting = self.waiting
        self.waiting = []
        for (commands, outstanding) in waiting { write(commands, outstanding) }
        let waiters = connectWaiters
        connectWaiters = []
        for waiter in waiters { waiter(.success(())) }
        closeIfDrained()
    }

    private func connectFailed(_ reason: String) {
        closeChannel()
        phase = .idle
        let delay = backoff.nextDelay()
        nextAttempt = .now() + TimeAmount(delay)
        lastConnectFailure = reason
        status.markDisconnected(reason: reason)
        logger.warning("cannot connect to Redis", metadata: ["error": "\(reason)", "retry-in-ms": "\(delay.wholeMilliseconds)"])
        fail(inFlight: .notConnected(reason), waiting: .notConnected(reason))
        let waiters = connectWaiters
        connectWaiters = []
        for waiter in waiters { waiter(.failure(.notConnected(reason))) }
        closeIfDrained()
    }

    // MARK: - Writing and timing out

    private func write(_ commands: [[[UInt8]]], _ outstanding: Outstanding) {
        guard let channel else { return outstanding.completion(.failure(.notConnected(lastConnectFailure))) }
        var buffer = channel.allocator.buffer(capacity: commands.reduce(0) { $0 + ByteBuffer.redisCommandSize($1) })
        for command in commands { buffer.writeRedisCommand(command) }
        if inFlight.isEmpty { lastProgress = .now() }
        inFlight.append(outstanding)
        channel.write(buffer, promise: nil)
        scheduleFlush()
        armTimer()
    }

    /// One flush for everything written in this turn of the loop: callers that submit together (a
    /// batch's history step and registry lookup) share one `write(2)`.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute { [self] in
            flushScheduled = false
            channel?.flush()
        }
    }

    /// One timer per connection: a server that sends nothing for `commandTimeout` while commands wait
    /// has stalled (a blocking command, a long script, a machine gone). A long pipeline that keeps
    /// answering has not, however long it takes in all: a command's time starts when the replies before
    /// it stopped coming, as a socket read timeout would count it.
    private func armTimer() {
        guard timer == nil, configuration.commandTimeout > .zero, !inFlight.isEmpty else { return }
        let timeout = TimeAmount(configuration.commandTimeout)
        timer = eventLoop.scheduleTask(deadline: lastProgress + timeout) { [self] in
            timer = nil
            guard !inFlight.isEmpty else { return }
            if lastProgress + timeout <= .now() {
                drop(after: .timeout)
            } else {
                armTimer()
            }
        }
    }

    // MARK: - Ending

    /// Drops a broken connection (closed by the server, silent past the timeout, unreadable): what is in
    /// flight fails with `error`, and the next command connects anew, so that a late reply is never
    /// read as the answer to a later command.
    private func drop(after error: RedisError) {
        if phase == .connecting {
            // The preparation's failure ends the attempt (`connectFailed`).
            return fail(inFlight: error, waiting: nil)
        }
        closeChannel()
        phase = .idle
        status.markDisconnected(reason: error.description)
        logger.warning("Redis connection dropped; the next command reconnects", metadata: ["error": "\(error)"])
        fail(inFlight: error, waiting: nil)
        closeIfDrained()
    }

    /// Fails what is in flight with `inFlight`, and what waits for a connection with `waiting` (when given).
    private func fail(inFlight error: RedisError, waiting waitingError: RedisError?) {
        timer?.cancel()
        timer = nil
        let failed = inFlight
        inFlight.removeAll()
        var unsent: [Outstanding] = []
        if waitingError != nil {
            unsent = waiting.map(\.outstanding)
            waiting = []
        }
        for outstanding in failed { outstanding.completion(.failure(error)) }
        if let waitingError { for outstanding in unsent { outstanding.completion(.failure(waitingError)) } }
    }

    private func closeIfDrained() {
        guard isShuttingDown, phase != .closed, phase != .connecting, inFlight.isEmpty, waiting.isEmpty else { return }
        finish()
    }

    private func finish() {
        phase = .closed
        closeChannel()
        timer?.cancel()
        timer = nil
        status.markDisconnected(reason: Self.shutDownReason)
        let waiters = shutdownWaiters
        shutdownWaiters = []
        for waiter in waiters { waiter.succeed() }
    }

    /// Forgets the channel before closing it: closing reports back (`closed`) at once, and a channel
    /// no longer current is ignored.
    private func closeChannel() {
        primaryCheck?.cancel()
        primaryCheck = nil
        let closing = channel
        channel = nil
        closing?.close(promise: nil)
    }

    private func isCurrent(_ channel: any Channel) -> Bool {
        self.channel.map { $0 === channel } ?? false
    }

    /// What went wrong with the socket, in the words of the system ("Connection refused").
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve the host: \(dns)" }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if case ChannelError.connectTimeout = error { return "Connection timed out" }
        return "\(error)"
    }
}
