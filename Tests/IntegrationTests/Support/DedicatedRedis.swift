import Foundation
import Logging
import Redis

/// A redis-server of a test's own, for faults that would disturb every other test on the shared one
/// (a `DEBUG SLEEP` stalls the whole server).
final class DedicatedRedis: Sendable {
    let port: Int
    private let process: Process
    private let directory: URL

    var url: String { "redis://127.0.0.1:\(port)/0" }

    init() throws {
        port = Int.random(in: 20_000..<30_000)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sse-fanout-redis-\(port)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--enable-debug-command", "yes",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// Stalls the server for `seconds` (`DEBUG SLEEP` from a connection of its own) and returns once the
    /// stall has begun (a probe's PING goes unanswered); the task ends when the server answers again. Its
    /// client waits that long: one with the usual command timeout would give up first and end the task
    /// while the server still sleeps.
    func stall(seconds: Int) async throws -> Task<Void, Never> {
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = .seconds(seconds + 10)
        let staller = RedisClient(configuration: configuration, logger: Logger(label: "staller"))
        try await staller.connect()
        let stall = Task {
            _ = try? await staller.command(["DEBUG", "SLEEP", String(seconds)])
            await staller.shutdown()
        }
        var probing = try RedisConfiguration(url: url)
        probing.commandTimeout = .milliseconds(100)
        let probe = RedisClient(configuration: probing, logger: Logger(label: "stall-probe"))
        defer { Task { await probe.shutdown() } }
        // Bounded: the sleep begins as soon as its command arrives.
        for _ in 0..<300 {
            do {
                _ = try await probe.command(["PING"])
            } catch RedisError.timeout {
                return stall
            } catch {}
            try await Task.sleep(for: .milliseconds(10))
        }
        throw RedisError.protocolError("the stall did not begin")
    }

    /// Kills the server without waiting for it (Foundation's `waitUntilExit` spins when called off
    /// the main thread).
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }
}
