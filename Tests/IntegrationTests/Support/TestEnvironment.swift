import Foundation

/// Where the real servers are: `scripts/test.sh` starts them and exports these.
enum TestEnvironment {
    static var amqpURL: String { ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5683/%2f" }
    static var redisURL: String { ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6391/0" }

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Waits for `condition` to hold, checking every 20 ms, for at most `timeout`.
    /// For state that has no event to await (e.g. a key that disappears from Redis).
    static func eventually(
        timeout: Duration = .seconds(10), _ what: String, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for: \(what)" }
    }
}
