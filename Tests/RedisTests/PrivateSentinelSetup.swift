import Foundation
import Redis

/// A primary, one replica and one sentinel of a test's own, on free ports: for tests that fail the
/// primary over, which on the shared server would move every other suite.
final class PrivateSentinelSetup: Sendable {
    static let masterName = "tests"
    let primary: RedisEndpoint
    let replica: RedisEndpoint
    let sentinel: RedisEndpoint
    private let processes: [Process]
    private let directory: URL

    /// The sentinel fails over only when a test asks (`SENTINEL FAILOVER`): a primary slow to answer on a
    /// busy machine is never taken for down.
    init() throws {
        // Below Linux's ephemeral range (32768 and up), where the suites' own outgoing connections could
        // hold the port; apart from the other private servers' ranges (20000-40000) and RabbitMQ's (5672,
        // 15672, 25672 and their neighbours).
        let base = Int.random(in: 11_000..<14_900)
        primary = RedisEndpoint(host: "127.0.0.1", port: base)
        replica = RedisEndpoint(host: "127.0.0.1", port: base + 1)
        sentinel = RedisEndpoint(host: "127.0.0.1", port: base + 2)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-sentinel-tests-\(base)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let directory = self.directory
        let server = { (port: Int, extra: [String]) throws -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path] + extra
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        let configuration = directory.appendingPathComponent("sentinel.conf")
        try """
            port \(sentinel.port)
            bind 127.0.0.1
            sentinel monitor \(Self.masterName) 127.0.0.1 \(primary.port) 1
            sentinel down-after-milliseconds \(Self.masterName) 60000
            sentinel failover-timeout \(Self.masterName) 5000
            sentinel known-replica \(Self.masterName) 127.0.0.1 \(replica.port)

            """.write(to: configuration, atomically: true, encoding: .utf8)
        var started: [Process] = []
        started.append(try server(primary.port, []))
        started.append(try server(replica.port, ["--replicaof", "127.0.0.1", String(primary.port)]))
        let sentinelProcess = Process()
        sentinelProcess.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        sentinelProcess.arguments = [configuration.path, "--sentinel"]
        sentinelProcess.standardOutput = FileHandle.nullDevice
        try sentinelProcess.run()
        started.append(sentinelProcess)
        processes = started
    }

    /// A client of the sentinel itself, for SENTINEL commands.
    func sentinelClient() throws -> RedisClient {
        RedisClient(configuration: RedisConfiguration(host: sentinel.host, port: sentinel.port), logger: TestRedis.quietLogger)
    }

    /// Returns once the sentinel monitors the primary and knows its replica in sync (checked every 50 ms,
    /// for at most `timeout`): before that it could not fail over. The sentinel is told of the replica in
    /// its configuration, so it need not wait for the primary's next `INFO` to find it.
    func waitUntilReady(timeout: Duration = .seconds(50)) async throws {
        let client = try sentinelClient()
        defer { Task { await client.shutdown() } }
        let deadline = ContinuousClock.now + timeout
        var seen = "nothing"
        while ContinuousClock.now < deadline {
            do {
                let replicas = try await client.command("SENTINEL", "replicas", Self.masterName).array ?? []
                let first = replicas.first?.array ?? []
                seen = "flags \(Self.field("flags", in: first) ?? "-"), link \(Self.field("master-link-status", in: first) ?? "-")"
                if Self.field("flags", in: first) == "slave", Self.field("master-link-status", in: first) == "ok" { return }
            } catch {
                seen = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisError.notConnected("the sentinel did not see the replica in sync within \(timeout): \(seen)")
    }

    /// A client configured with the sentinel (after a sentinel that is down, which it must skip).
    func configuration() -> RedisConfiguration {
        var configuration = RedisConfiguration(host: "unused.invalid", port: 1)
        configuration.sentinels = [RedisEndpoint(host: "127.0.0.1", port: sentinel.port + 100), sentinel]
        configuration.masterName = Self.masterName
        configuration.sentinelCheckInterval = .milliseconds(200)
        configuration.reconnectBackoffMaximum = .milliseconds(200)
        return configuration
    }

    static func field(_ name: String, in pairs: [RedisValue]) -> String? {
        stride(from: 0, to: pairs.count - 1, by: 2).first { pairs[$0].string == name }.flatMap { pairs[$0 + 1].string }
    }

    /// Kills every process without waiting for it.
    func stop() {
        for process in processes { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}
