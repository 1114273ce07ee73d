import Logging
import Redis
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shared test server. Other suites use it at the same time, so tests only touch keys under
/// their own unique prefix and never run anything server-wide (FLUSHDB, CONFIG SET, ...).
enum TestRedis {
    static let url = getenv("REDIS_URL").map { String(cString: $0) } ?? "redis://127.0.0.1:6390/0"

    static func configuration() throws -> RedisConfiguration {
        try RedisConfiguration(url: url)
    }

    /// A key prefix no other test, run or suite uses.
    static func uniquePrefix(_ test: String) -> String {
        "redis-tests:\(test):\(UInt64.random(in: 0...UInt64.max)):"
    }

    static let quietLogger = Logger(label: "redis-tests", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// Runs `body` with a new client and a fresh key prefix; afterwards deletes the keys under the
/// prefix and shuts the client down, whether `body` succeeded or not.
/// A body whose only `try`s are inside `#expect` must be written `{ (client, prefix) async throws in`:
/// Swift infers a closure's effects from its text, which does not look inside macros.
func withClient(
    _ test: String,
    configuration: RedisConfiguration? = nil,
    logger: Logger = TestRedis.quietLogger,
    _ body: (RedisClient, String) async throws -> Void
) async throws {
    let client = RedisClient(configuration: try configuration ?? TestRedis.configuration(), logger: logger)
    let prefix = TestRedis.uniquePrefix(test)
    do {
        try await body(client, prefix)
        try await deleteKeys(under: prefix, using: client)
        await client.shutdown()
    } catch {
        try? await deleteKeys(under: prefix, using: client)
        await client.shutdown()
        throw error
    }
}

/// Deletes this test's keys only, with SCAN so that it never blocks the shared server.
func deleteKeys(under prefix: String, using client: RedisClient) async throws {
    // Bounded only by the keyspace; the test may have just broken the connection, so retry it.
    var cursor = "0"
    repeat {
        let reply = try await retryingWhileNotConnected {
            try await client.command("SCAN", cursor, "MATCH", "\(prefix)*", "COUNT", "1000")
        }
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array
        else { throw RedisError.protocolError("unexpected SCAN reply \(reply)") }
        let names = keys.compactMap(\.string)
        if !names.isEmpty { _ = try await client.command(["DEL"] + names) }
        cursor = next
    } while cursor != "0"
}

/// Retries `body` while the client reports `.notConnected` (it is backing off before the next
/// connection attempt), a bounded number of times; any other outcome is returned or thrown.
func retryingWhileNotConnected<Value>(
    attempts: Int = 100, _ body: () async throws -> Value
) async throws -> Value {
    for _ in 1..<attempts {
        do {
            return try await body()
        } catch RedisError.notConnected {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
    return try await body()
}

/// Keeps the log lines a client writes, so tests can check that a failure was logged.
final class RecordingLogHandler: LogHandler, Sendable {
    private let lines = NIOLockedValueBox<[(level: Logger.Level, message: String)]>([])

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        lines.withLockedValue { $0.append((event.level, "\(event.message) \(event.metadata ?? [:])")) }
    }

    func messages(atLeast level: Logger.Level) -> [String] {
        lines.withLockedValue { $0.filter { $0.level >= level }.map(\.message) }
    }

    var logger: Logger {
        Logger(label: "redis-tests", factory: { _ in self })
    }
}
