import Foundation

/// Where the real servers are: `scripts/test.sh` starts them and exports these.
enum TestEnvironment {
    static var amqpURL: String { ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5683/%2f" }
    /// The same RabbitMQ, virtual host `sse-isolated` (scripts/services.sh adds it): for nodes with a
    /// Redis of their own, which must not consume the shared dead-letter queue of the other tests' nodes.
    static var isolatedAMQPURL: String { amqpURL(virtualHost: "sse-isolated") }
    /// The same RabbitMQ, virtual host `sse-contracts` (scripts/services.sh adds it): for the broker
    /// contract suite, whose brokers consume and publish to the queues every node shares.
    static var contractAMQPURL: String { amqpURL(virtualHost: "sse-contracts") }

    private static func amqpURL(virtualHost: String) -> String {
        let url = amqpURL
        let authority = url.range(of: "://").map(\.upperBound) ?? url.startIndex
        guard let slash = url[authority...].firstIndex(of: "/") else { return url + "/" + virtualHost }
        return url[..<slash] + "/" + virtualHost
    }
    static var redisURL: String { ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6391/0" }

    /// Runs `body`, then `cleanUp`, also when `body` throws.
    static func run(_ body: () async throws -> Void, thenAlways cleanUp: () async -> Void) async throws {
        do {
            try await body()
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

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
