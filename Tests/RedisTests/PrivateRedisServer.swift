import Foundation
import Redis

/// A redis-server of one test's own: for a test that stalls the whole server, which on the shared one
/// would hold up every other suite (and their nodes' readiness) at the same moment.
final class PrivateRedisServer: Sendable {
    let port: Int
    private let process: Process
    private let directory: URL

    init() throws {
        port = Int.random(in: 30_000..<40_000)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-tests-\(port)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    func configuration() throws -> RedisConfiguration {
        try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0")
    }

    /// Kills the server without waiting for it (Foundation's `waitUntilExit` spins off the main thread).
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }
}
