import Redis
import Testing

/// A client that finds the primary through Redis Sentinel, and follows it when it fails over.
@Suite("RedisClient with Sentinel", .serialized)
struct SentinelTests {
    /// The port of the server a client's connection is on, from the server itself.
    private func serverPort(_ client: RedisClient) async throws -> Int? {
        let info = try await client.command("INFO", "server").string ?? ""
        return info.split(separator: "\r\n").first { $0.hasPrefix("tcp_port:") }.flatMap { Int($0.dropFirst("tcp_port:".count)) }
    }

    @Test(.timeLimit(.minutes(2)))
    func connectsToThePrimaryTheSentinelNames() async throws {
        let setup = try PrivateSentinelSetup()
        defer { setup.stop() }
        try await setup.waitUntilReady()
        let client = RedisClient(configuration: setup.configuration(), logger: TestRedis.quietLogger)
        _ = try await client.command("SET", "k", "v")
        #expect(try await serverPort(client) == setup.primary.port)
        #expect(try await client.command("ROLE").array?.first?.string == "master")
        await client.shutdown()
    }

    @Test(.timeLimit(.minutes(2)))
    func aFailoverMovesTheClientToTheNewPrimary() async throws {
        let setup = try PrivateSentinelSetup()
        defer { setup.stop() }
        try await setup.waitUntilReady()
        let logs = RecordingLogHandler()
        let client = RedisClient(configuration: setup.configuration(), logger: logs.logger)
        _ = try await client.command("SET", "before", "1")
        // Replication is asynchronous: a write the replica has not got yet is lost with the failover.
        #expect(try await client.command("WAIT", "1", "5000") == .integer(1))
        #expect(try await serverPort(client) == setup.primary.port)
        let promoted = setup.replica.port

        let sentinel = try setup.sentinelClient()
        #expect(try await sentinel.command("SENTINEL", "FAILOVER", PrivateSentinelSetup.masterName) == .status("OK"))
        await sentinel.shutdown()

        // Writes fail (READONLY, a dropped connection, a primary not named yet) until the client is on
        // the new primary; bounded by the failover's own time.
        var port: Int?
        for _ in 0..<200 {
            if (try? await client.command("SET", "after", "2")) != nil, let now = try? await serverPort(client), now == promoted {
                port = now
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(port == promoted, "still not on the new primary")
        #expect(try await client.command("GET", "before").string == "1")
        #expect(logs.messages(atLeast: .warning).contains { $0.contains("primary") || $0.contains("READONLY") })
        await client.shutdown()
    }

    @Test(.timeLimit(.minutes(2)))
    func aNameNoSentinelMonitorsIsRefusedSayingWhy() async throws {
        let setup = try PrivateSentinelSetup()
        defer { setup.stop() }
        try await setup.waitUntilReady()
        var configuration = setup.configuration()
        configuration.masterName = "no-such-primary"
        let client = RedisClient(configuration: configuration, logger: TestRedis.quietLogger)
        let error = await #expect(throws: RedisError.self) { try await client.connect() }
        guard case .notConnected(let reason) = error else {
            Issue.record("expected .notConnected, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("no-such-primary"))
        #expect(reason.contains("monitors no primary of that name"))
        #expect(reason.contains(":\(setup.sentinel.port + 100): "), "the sentinel that is down is named too: \(reason)")
        await client.shutdown()
    }
}
