import Foundation
import SSEClient

/// One incarnation of an sse-fanout node: `serve --port P` as a child process, logging to its own file
/// (restarts on the same port append to the same file).
final class NodeProcess: Sendable {
    let port: Int
    let process: LoggedProcess

    private init(port: Int, process: LoggedProcess) {
        self.port = port
        self.process = process
    }

    /// `extraArguments` come after the suite's own flags (a scenario's settings, e.g. a shorter lease).
    static func launch(
        port: Int, binary: String, services: ServiceController, extraArguments: [String] = [], logPath: String
    ) throws -> NodeProcess {
        // Settings from the caller's environment (SSE_FANOUT_*) must not change what the suite tests.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SSE_FANOUT_") }
        let process = try LoggedProcess.launch(
            binary,
            [
                "serve", "--port", String(port),
                "--amqp-url", services.amqpURL,
                "--redis-url", services.redisURL,
                "--log-level", "warning",
                // The suite checks delivery, not identity: its clients declare their users.
                "--no-auth",
            ] + extraArguments,
            environment: environment,
            logPath: logPath,
            banner: "starting node \(port)"
        )
        return NodeProcess(port: port, process: process)
    }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }

    /// GET /readyz answered 200 (RabbitMQ and Redis both reachable from the node).
    func isReady(client: HTTPClient) async -> Bool {
        let response = try? await client.request("GET", "http://127.0.0.1:\(port)/readyz", timeout: .seconds(2))
        return response?.status == 200
    }
}
