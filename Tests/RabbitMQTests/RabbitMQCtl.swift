import Foundation
import RabbitMQ

/// Drives `rabbitmqctl` against the test server's node, to close one connection from the server side.
enum RabbitMQCtl {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// As scripts/services.sh names it: `${RABBIT_NAME:-ssefanout}-<AMQP port>@localhost`, unless set outright.
    static var nodeName: String {
        get throws {
            let environment = ProcessInfo.processInfo.environment
            if let nodeName = environment["RABBITMQ_NODENAME"] { return nodeName }
            let port = try TestBroker.configuration().port
            return "\(environment["RABBIT_NAME"] ?? "ssefanout")-\(port)@localhost"
        }
    }

    /// Closes the broker connections whose client property "connection_name" is `connectionName`;
    /// returns how many there were. Touches no other connection: other suites share the server.
    static func closeConnections(named connectionName: String) async throws -> Int {
        let connections = try await connectionProcesses(withClientName: connectionName)
        for connection in connections {
            _ = try await run(["close_connection", connection, "closed by RabbitMQTests"])
        }
        return connections.count
    }

    /// The broker's process ids (which close_connection takes) of the connections with this client
    /// connection_name. Matches the name literally: give connections names without quotes.
    static func connectionProcesses(withClientName connectionName: String) async throws -> [String] {
        let output = try await run(["list_connections", "--no-table-headers", "pid", "client_properties"])
        // One line per connection: `<pid>\t[{"product","..."},...,{"connection_name","..."}]`.
        let namedProperty = "{\"connection_name\",\"\(connectionName)\"}"
        return output.split(separator: "\n").compactMap { line in
            let columns = line.split(separator: "\t", maxSplits: 1)
            guard columns.count == 2, columns[1].contains(namedProperty) else { return nil }
            return String(columns[0])
        }
    }

    private static func run(_ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["rabbitmqctl", "--quiet", "--node", try nodeName] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["RABBITMQ_NODENAME"] = try nodeName
        process.environment = environment
        // Files rather than pipes: a pipe nobody reads until exit could fill up and stall rabbitmqctl.
        let output = try TemporaryFile()
        let errors = try TemporaryFile()
        process.standardOutput = output.handle
        process.standardError = errors.handle
        // Wait for exit without blocking a thread of the cooperative pool.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let text = try output.contents()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "rabbitmqctl \(arguments.joined(separator: " ")) failed: \(try errors.contents()) \(text)")
        }
        return text
    }

    /// A file in the temporary directory, deleted when released.
    private final class TemporaryFile {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rabbitmqctl-\(UUID().uuidString)")
        let handle: FileHandle

        init() throws {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            handle = try FileHandle(forWritingTo: url)
        }

        deinit {
            try? handle.close()
            try? FileManager.default.removeItem(at: url)
        }

        func contents() throws -> String {
            String(decoding: try Data(contentsOf: url), as: UTF8.self)
        }
    }
}
