import Foundation

/// An `sse-fanout serve` of its own, in a child process, for what cannot be done to a node inside the
/// test process (starve it of file descriptors). Its log (standard error) is kept in a file.
final class ChildNode: Sendable {
    let process: Process
    let port: Int
    private let logURL: URL

    private init(process: Process, port: Int, logURL: URL) {
        self.process = process
        self.port = port
        self.logURL = logURL
    }

    /// The `sse-fanout` built next to the test executable (`swift build --build-tests` builds both).
    static var binary: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("sse-fanout").path
    }

    /// Starts `sse-fanout serve --port 0 arguments…` with at most `openFiles` file descriptors
    /// (`ulimit -n`), and returns once it serves HTTP.
    static func start(openFiles: Int, _ arguments: [String]) async throws -> ChildNode {
        let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("sse-fanout-child-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -n \(openFiles) && exec \"$0\" serve --port 0 \"$@\"", binary] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        var port = 0
        do {
            try await TestEnvironment.eventually("the child node serving HTTP") {
                let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
                guard let line = text.split(separator: "\n").first(where: { $0.contains("node started") }),
                    let address = line.split(separator: " ").first(where: { $0.hasPrefix("http=") }),
                    let bound = address.split(separator: ":").last.flatMap({ Int($0) })
                else { return false }
                port = bound
                return true
            }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            throw error
        }
        return ChildNode(process: process, port: port, logURL: logURL)
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// CPU time the process has used so far (user and system), from /proc/<pid>/stat.
    var cpuTime: Duration {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let afterName = stat.lastIndex(of: ")")
        else { return .zero }
        // After "pid (name)": state is field 3, utime 14 and stime 15, in clock ticks.
        let fields = stat[stat.index(after: afterName)...].split(separator: " ")
        let ticks = (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
        return .milliseconds(ticks * 1000 / sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Kills it (no drain: a test node holds nothing worth draining) and removes its log.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(at: logURL)
    }
}
