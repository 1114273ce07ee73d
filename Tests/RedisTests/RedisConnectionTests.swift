import Logging
@testable import Redis
import Testing

@Suite("RedisClient connection handling")
struct RedisConnectionTests {
    @Test func connectsLazilyOrOnRequest() async throws {
        try await withClient("lazy") { (client, _) async throws in
            #expect(!client.isConnected)
            #expect(client.lastError == "not connected yet")
            #expect(try await client.command("PING") == .status("PONG"))
            #expect(client.isConnected)
            #expect(client.lastError == nil)
        }
        try await withClient("eager") { client, _ in
            try await client.connect()
            #expect(client.isConnected)
            try await client.connect()  // already connected: nothing to do
        }
    }

    @Test func selectingADatabaseIsolatesKeys() async throws {
        var otherDatabase = try TestRedis.configuration()
        otherDatabase.database = otherDatabase.database == 1 ? 2 : 1
        try await withClient("db") { defaultClient, prefix in
            try await withClient("db", configuration: otherDatabase) { otherClient, _ in
                let key = "\(prefix)isolated"
                _ = try await otherClient.command("SET", key, "in-db-\(otherDatabase.database)")
                #expect(try await defaultClient.command("GET", key) == .null)
                #expect(try await otherClient.command("GET", key).string == "in-db-\(otherDatabase.database)")
                let info = try await otherClient.command("CLIENT", "INFO").string ?? ""
                #expect(info.contains(" db=\(otherDatabase.database) "))
                _ = try await otherClient.command("DEL", key)
            }
        }
    }

    @Test func passwordIsSentWithAUTHOnConnect() async throws {
        var configuration = try TestRedis.configuration()
        configuration.password = "definitely-not-the-password"
        let client = RedisClient(configuration: configuration, logger: TestRedis.quietLogger)
        let error = await #expect(throws: RedisError.self) { try await client.connect() }
        #expect(!client.isConnected)
        await client.shutdown()

        // The server refused the AUTH command (it has no such password), so AUTH was sent.
        guard case .notConnected(let reason) = error else {
            Issue.record("expected .notConnected, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("AUTH on "), "\(reason)")
        #expect(!reason.contains("definitely-not-the-password"))
    }

    @Test(.timeLimit(.minutes(1)))
    func closedPortFailsFastThenBacksOff() async throws {
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:1")
        configuration.reconnectBackoffInitial = .seconds(30)  // long enough to stay inside it below
        let client = RedisClient(configuration: configuration, logger: TestRedis.quietLogger)
        let refused = "cannot connect to 127.0.0.1:1: Connection refused"
        let clock = ContinuousClock()

        let start = clock.now
        await #expect(throws: RedisError.notConnected(refused)) { try await client.command("PING") }
        #expect(clock.now - start < .seconds(1))
        #expect(!client.isConnected)
        #expect(client.lastError == refused)

        // Inside the backoff, commands fail at once without another attempt.
        let second = await #expect(throws: RedisError.self) { try await client.command("PING") }
        if case .notConnected(let reason) = second {
            #expect(reason.hasPrefix("\(refused) (next attempt in "), "\(reason)")
        } else {
            Issue.record("expected .notConnected, got \(String(describing: second))")
        }

        // connect() is an explicit request, so it does try again, and fails with the reason.
        await #expect(throws: RedisError.notConnected(refused)) { try await client.connect() }
        await client.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func firstCommandAfterTheBackoffDeadlineTriesAgain() async throws {
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:1")
        configuration.reconnectBackoffInitial = .milliseconds(20)
        configuration.reconnectBackoffMaximum = .milliseconds(40)
        let client = RedisClient(configuration: configuration, logger: TestRedis.quietLogger)
        let attempted = RedisError.notConnected("cannot connect to 127.0.0.1:1: Connection refused")

        await #expect(throws: attempted) { try await client.command("PING") }
        var outcomes: [RedisError] = []
        // Bounded: the deadline is at most 40 ms away, and each pass waits 10 ms.
        for _ in 0..<500 where outcomes.last != attempted {
            try await Task.sleep(for: .milliseconds(10))
            do {
                _ = try await client.command("PING")
            } catch let error as RedisError {
                outcomes.append(error)
            }
        }
        #expect(outcomes.last == attempted, "no new attempt after the backoff: \(outcomes.suffix(3))")
        await client.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func connectionKilledByTheServerIsDroppedThenReplaced() async throws {
        let logs = RecordingLogHandler()
        try await withClient("kill", logger: logs.logger) { client, prefix in
            try await withClient("kill-killer") { killer, _ in
                _ = try await client.command("SET", "\(prefix)k", "v")
                let id = try #require(try await client.command("CLIENT", "ID").int)
                #expect(try await killer.command("CLIENT", "KILL", "ID", "\(id)") == .integer(1))

                // The connection's loop notices the close by itself; a command that races it fails
                // with `.connectionLost`, and a later one runs on a new connection.
                var value: RedisValue?
                for _ in 0..<100 where value == nil {
                    do {
                        value = try await client.command("GET", "\(prefix)k")
                    } catch RedisError.connectionLost {
                        continue
                    } catch RedisError.notConnected {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                #expect(value?.string == "v")
                #expect(logs.messages(atLeast: .warning).contains { $0.contains("connection dropped") && $0.contains("connection lost") })

                // It reconnected by itself, as a new server-side client.
                let newID = try await client.command("CLIENT", "ID").int
                #expect(newID != nil && newID != id)
                #expect(try await client.command("GET", "\(prefix)k").string == "v")
                #expect(client.isConnected)
                #expect(logs.messages(atLeast: .info).contains { $0.contains("connected to Redis") })
            }
        }
    }

    /// Writing a large command to a socket the server has closed raises SIGPIPE, which would kill
    /// the whole process unless the client keeps it from doing so.
    @Test(.timeLimit(.minutes(1)))
    func writingToAKilledConnectionDoesNotKillTheProcess() async throws {
        try await withClient("sigpipe") { client, prefix in
            try await withClient("sigpipe-killer") { killer, _ in
                let large = [UInt8](repeating: 0x61, count: 16 << 20)
                for _ in 0..<3 {
                    let id = try #require(try await retryingWhileNotConnected { try await client.command("CLIENT", "ID").int })
                    _ = try await killer.command("CLIENT", "KILL", "ID", "\(id)")
                    // Written to the dead socket, or (once the loop saw the close) to a new connection:
                    // either way the process lives on.
                    _ = try? await client.command(bytes: [Array("SET".utf8), Array("\(prefix)big".utf8), large])
                }
                #expect(try await retryingWhileNotConnected { try await client.command("PING") } == .status("PONG"))
            }
        }
    }

    @Test func shutdownRunsQueuedCommandsThenRefusesNewOnes() async throws {
        let client = RedisClient(configuration: try TestRedis.configuration(), logger: TestRedis.quietLogger)
        let key = "\(TestRedis.uniquePrefix("shutdown"))k"
        let set = client.enqueue(["SET", key, "v", "EX", "60"])
        let delete = client.enqueue(["DEL", key])
        await client.shutdown()
        #expect(try await set.value == .status("OK"))
        #expect(try await delete.value == .integer(1))
        await #expect(throws: RedisError.notConnected("the client has been shut down")) {
            try await client.command("PING")
        }
        await #expect(throws: RedisError.notConnected("the client has been shut down")) {
            try await client.pipeline([["PING"]])
        }
        #expect(!client.isConnected)
        #expect(client.lastError == "the client has been shut down")
        await client.shutdown()  // a second call does nothing
    }

    @Test(.timeLimit(.minutes(1)))
    func clientReleasedWithoutShutdownClosesItsConnection() async throws {
        // The client's deinit closes its connections on their loops.
        var client: RedisClient? = RedisClient(
            configuration: try TestRedis.configuration(), logger: TestRedis.quietLogger)
        let id = try #require(try await client?.command("CLIENT", "ID").int)
        client = nil

        try await withClient("released-observer") { observer, _ in
            // It happens on the connection's loop shortly after the release; bounded wait.
            var listed = true
            for _ in 0..<250 where listed {
                try await Task.sleep(for: .milliseconds(20))
                listed = try await observer.command("CLIENT", "LIST", "ID", "\(id)").string?.isEmpty == false
            }
            #expect(!listed, "the released client's connection is still open")
        }
    }
}
