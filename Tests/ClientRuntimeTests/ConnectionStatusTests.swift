import ClientRuntime
import Testing

@Suite("ConnectionStatus")
struct ConnectionStatusTests {
    /// A client's own error, as `AMQPError.notConnected` and `RedisError.notConnected` are.
    private struct NotConnected: Error, Equatable {
        let reason: String
    }

    private static func status() -> ConnectionStatus {
        ConnectionStatus(initialReason: "not started") { NotConnected(reason: $0) }
    }

    @Test func reportsWhyItIsNotConnected() {
        let status = Self.status()
        #expect(!status.isConnected)
        #expect(status.lastError == "not started")
        #expect(status.established == 0)
        status.markConnected()
        #expect(status.isConnected)
        #expect(status.lastError == nil)
        #expect(status.established == 1)
        status.markDisconnected(reason: "connection refused")
        #expect(!status.isConnected)
        #expect(status.lastError == "connection refused")
        // The same connection usable again (unblocked) is not a new one.
        status.markConnected(newConnection: false)
        #expect(status.established == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func waitersAreWokenWhenItConnects() async throws {
        let status = Self.status()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { try await status.waitUntilConnected(timeout: .seconds(30)) }
            }
            try await Task.sleep(for: .milliseconds(50))
            status.markConnected()
            try await group.waitForAll()
        }
        // Already connected: returns at once.
        try await status.waitUntilConnected(timeout: .milliseconds(1))
    }

    @Test(.timeLimit(.minutes(1)))
    func aWaitThatTimesOutThrowsTheClientsErrorWithTheLastReason() async {
        let status = Self.status()
        status.markDisconnected(reason: "connection refused")
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: NotConnected(reason: "connection refused")) {
            try await status.waitUntilConnected(timeout: .milliseconds(100))
        }
        #expect(clock.now - start >= .milliseconds(100))
        // A later connection still wakes later waiters.
        status.markConnected()
        #expect(status.isConnected)
    }

    @Test(.timeLimit(.minutes(1)))
    func waitsForAConnectionNewerThanTheOnesItWasTold() async throws {
        let status = Self.status()
        status.markConnected()
        let before = status.established
        let waiter = Task { try await status.waitUntilConnected(timeout: .seconds(30), establishedAfter: before) }
        try await Task.sleep(for: .milliseconds(50))
        // Still connected on the old connection, and unblocked: not enough.
        status.markConnected(newConnection: false)
        try await Task.sleep(for: .milliseconds(50))
        status.markDisconnected(reason: "lost")
        status.markConnected()
        try await waiter.value
        #expect(status.established == before + 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func aCancelledWaitThrowsCancellation() async {
        let status = Self.status()
        let waiter = Task { try await status.waitUntilConnected(timeout: .seconds(30)) }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }
}
