import Foundation
import Logging

/// Starts and stops the suite's own redis-server and rabbitmq-server through scripts/services.sh, on
/// ports and a data directory of their own (never the test suite's 6391/5683 or the demo's 6390/5682).
struct ServiceController: Sendable {
    let script: String
    let directory: String
    let redisPort: Int
    let amqpPort: Int
    let rabbitName: String
    let logPath: String
    let logger: Logger

    var amqpURL: String { "amqp://guest:guest@127.0.0.1:\(amqpPort)/%2f" }
    var redisURL: String { "redis://127.0.0.1:\(redisPort)/0" }

    /// The command a person runs to stop these servers by hand (e.g. after sse-chaos itself was killed).
    var manualStopCommand: String {
        "SERVICES_DIR=\(directory) REDIS_PORT=\(redisPort) AMQP_PORT=\(amqpPort) RABBIT_NAME=\(rabbitName) \(script) stop"
    }

    private var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SERVICES_DIR"] = directory
        environment["REDIS_PORT"] = String(redisPort)
        environment["AMQP_PORT"] = String(amqpPort)
        environment["RABBIT_NAME"] = rabbitName
        return environment
    }

    /// Starts both servers with empty data, so no queue, message or key of an earlier scenario leaks in.
    /// Refuses to start if something already listens on their ports.
    func startFresh() async throws {
        for port in [redisPort, amqpPort, amqpPort + 20000] where PortProbe.isOpen(port) {
            throw ChaosError.portInUse(port, "left over from an earlier run? \(manualStopCommand)")
        }
        for data in ["redis", "rabbitmq"] {
            try? FileManager.default.removeItem(atPath: directory + "/" + data)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await run("start")
    }

    func startRedis() async throws { try await run("start-redis") }
    func stopRedis() async throws { try await run("stop-redis") }
    func startRabbitMQ() async throws { try await run("start-rabbitmq") }
    func stopRabbitMQ() async throws { try await run("stop-rabbitmq") }
    func stopAll() async throws { try await run("stop") }

    /// Runs `scripts/services.sh <command>`; the script itself bounds its waits (RabbitMQ: 2 minutes).
    func run(_ command: String) async throws {
        let started = ContinuousClock.now
        let process = try LoggedProcess.launch(
            "/bin/bash", [script, command], environment: environment, logPath: logPath, banner: "services.sh \(command)"
        )
        let status = try await process.waitForExit(timeout: .seconds(180))
        guard status == 0 else {
            process.send(SIGKILL)
            throw ChaosError.commandFailed("services.sh \(command)", status: status ?? -1, log: logPath)
        }
        let seconds = ScenarioClock.seconds(ContinuousClock.now - started)
        logger.debug("services.sh \(command) took \(String(format: "%.1f", seconds)) s")
    }

    /// For the interrupt handler: stops both servers, blocking this thread until the script returns.
    func stopAllBlocking() {
        guard let process = try? LoggedProcess.launch(
            "/bin/bash", [script, "stop"], environment: environment, logPath: logPath, banner: "services.sh stop (interrupted)"
        ) else { return }
        while process.isRunning { usleep(50_000) }
    }
}
