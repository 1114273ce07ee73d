import Redis
import NIOConcurrencyHelpers
import Testing

/// Serialized, so the short timeouts here are not taken by each other's load. The stall runs on a
/// server of its own: on the shared one it held up every other suite, and their nodes' readiness.
@Suite("RedisClient command timeout", .serialized)
struct RedisTimeoutTests {
    @Test(.timeLimit(.minutes(1)))
    func slowServerTimesOutThenTheClientRecovers() async throws {
        // A server of its own: the stall below holds up the whole server.
        let server = try PrivateRedisServer()
        defer { server.stop() }
        try await server.waitUntilListening()
        var configuration = try server.configuration()
        configuration.commandTimeout = .milliseconds(200)
        try await withClient("timeout", configuration: configuration) { client, prefix in
            try await withClient("timeout-staller", configuration: try server.configuration()) { staller, _ in
                // Written by the client with the ordinary timeout: only the GETs below are what the short one is for.
                _ = try await staller.command("SET", "\(prefix)first", "1")
                _ = try await staller.command("SET", "\(prefix)second", "2")

                // Keeps the whole server busy for 1 s, as DEBUG SLEEP 1 would (DEBUG is disabled on
                // the test server): a Lua script that spins on TIME. Long next to the 200 ms timeout,
                // so that a GET goes out in time to wait for it even on a busy machine.
                let stall = staller.enqueue([
                    "EVAL",
                    """
                    local start = redis.call('TIME')
                    repeat
                        local now = redis.call('TIME')
                    until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) >= 1000000
                    return 1
                    """,
                    "0",
                ])
                let stallFinished = NIOLockedValueBox(false)
                let waiter = Task {
                    let reply = try await stall.value
                    stallFinished.withLockedValue { $0 = true }
                    return reply
                }

                // Until the stall has begun, a GET may still be answered in time; once it has,
                // the next GET waits longer than the 200 ms timeout.
                var timedOut = false
                while !timedOut, !stallFinished.withLockedValue({ $0 }) {
                    do {
                        _ = try await client.command("GET", "\(prefix)first")
                    } catch RedisError.timeout {
                        timedOut = true
                    }
                }
                #expect(timedOut)
                #expect(!client.isConnected)
                #expect(try await waiter.value == .integer(1))

                // Recovered on a new connection: the late reply to the timed-out GET is not read
                // as the answer to this one.
                #expect(try await Self.beyondOtherLoad { try await client.command("GET", "\(prefix)second") }.string == "2")
                #expect(client.isConnected)
            }
        }
    }

    @Test func blockingCommandLongerThanTheTimeoutTimesOut() async throws {
        var configuration = try TestRedis.configuration()
        // Long enough for the SET and GET on a machine busy with every other suite (600 ms was not),
        // far shorter than the BLPOP.
        configuration.commandTimeout = .seconds(2)
        try await withClient("timeout-blpop", configuration: configuration) { client, prefix in
            _ = try await client.command("SET", "\(prefix)k", "v")
            await #expect(throws: RedisError.timeout) {
                try await client.command("BLPOP", "\(prefix)empty-list", "10")
            }
            #expect(try await client.command("GET", "\(prefix)k").string == "v")
        }
    }

    /// Behind a command that times out, the commands queued with it fail at once, unsent: not one
    /// whole timeout after another.
    @Test func commandsQueuedBehindAStallFailWithinOneTimeoutOfBeingQueued() async throws {
        var configuration = try TestRedis.configuration()
        // A second: a PING answers within it on a busy machine, and one timeout (1 s) stays far from the
        // three (3 s) that commands failing one after another would take.
        configuration.commandTimeout = .seconds(1)
        try await withClient("timeout-queue", configuration: configuration) { client, prefix in
            _ = try await client.command("PING")
            let started = ContinuousClock.now
            // Each BLPOP blocks its connection for 5 s, far past the timeout.
            let queued = (0..<3).map { _ in client.enqueue(["BLPOP", "\(prefix)empty-list", "5"]) }
            for reply in queued {
                await #expect(throws: RedisError.timeout) { try await reply.value }
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(try await client.command("PING") == .status("PONG"))
        }
    }

    /// Runs a step that is not what a test is about, again when it times out: the shared server may
    /// be busy with other suites' pipelines for longer than these tests' short timeouts.
    private static func beyondOtherLoad<T>(_ step: () async throws -> T) async throws -> T {
        for _ in 0..<20 {
            do {
                return try await step()
            } catch RedisError.timeout {
                continue
            }
        }
        return try await step()
    }
}
