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

    /// Returns once the server accepts connections (checked every 20 ms, for at most `timeout`): a client
    /// that tried before would be refused and back off for seconds, longer on a busy machine.
    func waitUntilListening(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !acceptsConnections() {
            guard ContinuousClock.now < deadline else { throw RedisError.notConnected("redis-server on port \(port) did not listen within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func acceptsConnections() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
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
