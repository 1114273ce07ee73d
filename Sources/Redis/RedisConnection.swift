import ClientRuntime
import Logging

/// The one hiredis connection behind a `RedisClient`, with its reconnect policy.
///
/// Every method runs on the client's `ConnectionThread`, one job at a time (`serve`): that is what
/// makes hiredis (not thread-safe) safe to use, and what keeps commands in submission order.
///
/// Reconnect policy: a broken connection is dropped when the command that saw it fails; the next
/// command connects again at once. Each failed attempt then starts a backoff (`ReconnectBackoff`)
/// during which commands fail fast with `.notConnected`; the first command after it tries again.
final class RedisConnection: @unchecked Sendable {  // Sendable only to be handed to the worker thread; nothing else touches it.
    let status = ConnectionStatus(initialReason: "not connected yet") { RedisError.notConnected($0) }

    private let configuration: RedisConfiguration
    private let logger: Logger
    private var context: HiredisContext?
    private var backoff: ReconnectBackoff
    /// While in the future, commands fail fast instead of trying to connect.
    private var nextAttempt: ContinuousClock.Instant?
    private var lastConnectFailure = ""
    /// When the last command timed out.
    private var lastTimeout: ContinuousClock.Instant?
    private var isClosed = false

    static let shutDownReason = "the client has been shut down"

    init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "redis"] = "\(configuration.endpoint)"
        self.logger = logger
        backoff = ReconnectBackoff(
            initial: configuration.reconnectBackoffInitial, maximum: configuration.reconnectBackoffMaximum)
    }

    /// The thread's whole life: runs the jobs handed over, in order, until the queue is closed and
    /// empty, then frees the context. Whatever queued while the thread was busy is taken at once, and
    /// pipelines taken one after another go out together: every caller's commands written, then every
    /// reply read, so callers that issue commands at the same moment share one round trip and one
    /// wake-up of the thread. Each caller still gets exactly its own replies.
    func serve(_ jobs: SignalingQueue<RedisJob>) {
        SignalMask.blockSIGPIPEOnCurrentThread()
        while true {
            let taken = jobs.takeAll()
            // Empty only once closed and drained.
            if taken.isEmpty { break }
            perform(taken)
        }
        close()
    }

    /// Runs `jobs` in order, each run of pipelines among them as one.
    private func perform(_ jobs: [RedisJob]) {
        var next = jobs.startIndex
        while next < jobs.endIndex {
            if case .work(let work) = jobs[next] {
                work(self)
                next += 1
                continue
            }
            var pipelines: [(commands: [[[UInt8]]], queuedAt: ContinuousClock.Instant)] = []
            var completions: [@Sendable (Result<[RedisValue], RedisError>) -> Void] = []
            while next < jobs.endIndex, case .pipeline(let commands, let queuedAt, let completion) = jobs[next] {
                pipelines.append((commands, queuedAt))
                completions.append(completion)
                next += 1
            }
            for (completion, result) in zip(completions, run(pipelines)) { completion(result) }
        }
    }

    /// Connects now if not connected, even while backing off: an explicit request to try.
    func connect() throws(RedisError) {
        _ = try connectedContext(respectingBackoff: false)
    }

    /// Runs `work` on a connected context, connecting first if needed. If the context broke during
    /// `work`, it is freed, so that the next command starts from a fresh connection.
    ///
    /// When a command times out, those queued before that moment fail at once with `.timeout`,
    /// unsent: they queued behind a server that stopped answering, and trying each in turn would
    /// make their callers wait one whole timeout after another. Commands queued later try again.
    func run<Value>(queuedAt: ContinuousClock.Instant, _ work: (HiredisContext) throws(RedisError) -> Value) throws(RedisError) -> Value {
        if let lastTimeout, queuedAt < lastTimeout { throw .timeout }
        let context = try connectedContext(respectingBackoff: true)
        do {
            return try work(context)
        } catch {
            if error == .timeout { lastTimeout = .now }
            if context.hasFailed { drop(after: error) }
            throw error
        }
    }

    /// Runs several callers' pipelines as one: all of their commands written, then all replies read,
    /// each caller's share handed back in order. Those queued before the last timeout fail at once
    /// with `.timeout`, unsent (see `run(queuedAt:_:)`); a failure of the round trip fails the rest.
    func run(_ pipelines: [(commands: [[[UInt8]]], queuedAt: ContinuousClock.Instant)]) -> [Result<[RedisValue], RedisError>] {
        var results = [Result<[RedisValue], RedisError>](repeating: .failure(.timeout), count: pipelines.count)
        let sent = pipelines.indices.filter { index in lastTimeout.map { pipelines[index].queuedAt >= $0 } ?? true }
        guard let oldest = sent.first else { return results }
        let commands = sent.flatMap { pipelines[$0].commands }
        do {
            let replies = try run(queuedAt: pipelines[oldest].queuedAt) { context throws(RedisError) in try context.pipeline(commands) }
            var start = 0
            for index in sent {
                let end = start + pipelines[index].commands.count
                results[index] = .success(Array(replies[start..<end]))
                start = end
            }
        } catch {
            for index in sent { results[index] = .failure(error) }
        }
        return results
    }

    /// Frees the context for good; later commands fail with `.notConnected`.
    func close() {
        isClosed = true
        context = nil
        status.markDisconnected(reason: Self.shutDownReason)
    }

    private func connectedContext(respectingBackoff: Bool) throws(RedisError) -> HiredisContext {
        if isClosed { throw .notConnected(Self.shutDownReason) }
        if let context { return context }
        if respectingBackoff, let nextAttempt {
            let remaining = ContinuousClock.now.duration(to: nextAttempt)
            if remaining > .zero {
                throw .notConnected("\(lastConnectFailure) (next attempt in \(remaining.wholeMilliseconds) ms)")
            }
        }
        do {
            let context = try HiredisContext(
                host: configuration.host, port: configuration.port,
                connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
            try prepare(context)
            self.context = context
            backoff.reset()
            nextAttempt = nil
            status.markConnected()
            logger.info("connected to Redis")
            return context
        } catch {
            let delay = backoff.nextDelay()
            nextAttempt = ContinuousClock.now + delay
            let reason = if case .notConnected(let reason) = error { reason } else { error.description }
            lastConnectFailure = reason
            status.markDisconnected(reason: reason)
            logger.warning(
                "cannot connect to Redis",
                metadata: ["error": "\(reason)", "retry-in-ms": "\(delay.wholeMilliseconds)"])
            throw .notConnected(reason)
        }
    }

    /// AUTH and SELECT, which every new connection needs before it can run commands.
    private func prepare(_ context: HiredisContext) throws(RedisError) {
        if let password = configuration.password {
            let credentials = [configuration.username, password].compactMap { $0 }
            try expectOK(from: context, ["AUTH"] + credentials, describedAs: "AUTH")
        }
        // A new connection starts in database 0, so SELECT 0 would only cost a round trip.
        if configuration.database != 0 {
            try expectOK(from: context, ["SELECT", "\(configuration.database)"], describedAs: "SELECT")
        }
    }

    private func expectOK(
        from context: HiredisContext, _ command: [String], describedAs name: String
    ) throws(RedisError) {
        let reply: RedisValue
        do {
            reply = try context.command(command.map { Array($0.utf8) })
        } catch {
            throw .notConnected("\(name) on \(configuration.endpoint) failed: \(error)")
        }
        if case .error(let message) = reply {
            throw .notConnected("\(name) on \(configuration.endpoint) was refused: \(message)")
        }
    }

    private func drop(after error: RedisError) {
        context = nil
        status.markDisconnected(reason: error.description)
        logger.warning("Redis connection dropped; the next command reconnects", metadata: ["error": "\(error)"])
    }
}
