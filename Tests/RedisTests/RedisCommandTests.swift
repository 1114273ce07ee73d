import Redis
import Testing

@Suite("RedisClient commands")
struct RedisCommandTests {
    @Test func setThenGetRoundTrips() async throws {
        try await withClient("set-get") { client, prefix in
            #expect(try await client.command("SET", "\(prefix)k", "héllo wörld") == .status("OK"))
            let value = try await client.command("GET", "\(prefix)k")
            #expect(value == .bulk(Array("héllo wörld".utf8)))
            #expect(value.string == "héllo wörld")
        }
    }

    @Test func integersAndNil() async throws {
        try await withClient("integers") { (client, prefix) async throws in
            #expect(try await client.command("INCRBY", "\(prefix)n", "41") == .integer(41))
            #expect(try await client.command("INCR", "\(prefix)n") == .integer(42))
            #expect(try await client.command("DECRBY", "\(prefix)n", "100") == .integer(-58))
            #expect(try await client.command("GET", "\(prefix)n").int == -58)
            #expect(try await client.command("GET", "\(prefix)missing") == .null)
            #expect(try await client.command("HGET", "\(prefix)missing", "field") == .null)
        }
    }

    @Test func arrays() async throws {
        try await withClient("arrays") { client, prefix in
            _ = try await client.command("HSET", "\(prefix)h", "conn-1", "8080", "conn-2", "8081")
            let hash = try #require(try await client.command("HGETALL", "\(prefix)h").array)
            let pairs = stride(from: 0, to: hash.count, by: 2).map { (hash[$0].string!, hash[$0 + 1].string!) }
            #expect(Dictionary(uniqueKeysWithValues: pairs) == ["conn-1": "8080", "conn-2": "8081"])

            #expect(try await client.command("SADD", "\(prefix)s", "a", "b", "c") == .integer(3))
            let members = try #require(try await client.command("SMEMBERS", "\(prefix)s").array)
            #expect(Set(members.compactMap(\.string)) == ["a", "b", "c"])

            // Nil elements inside an array stay in place.
            let values = try await client.command("MGET", "\(prefix)s-missing", "\(prefix)h-missing")
            #expect(values == .array([.null, .null]))
            #expect(try await client.command("LRANGE", "\(prefix)empty", "0", "-1") == .array([]))
        }
    }

    @Test func errorReplyThrowsTheServersMessage() async throws {
        try await withClient("error-reply") { client, prefix in
            _ = try await client.command("SET", "\(prefix)text", "not a number")
            await #expect(throws: RedisError.server("ERR value is not an integer or out of range")) {
                try await client.command("INCR", "\(prefix)text")
            }
            let error = await #expect(throws: RedisError.self) { try await client.command("NOSUCHCOMMAND", "x") }
            guard case .server(let message) = error else {
                Issue.record("expected .server, got \(String(describing: error))")
                return
            }
            #expect(message.hasPrefix("ERR unknown command"))
            // An error reply is an answer, not a broken connection: the client carries on.
            #expect(try await client.command("PING") == .status("PONG"))
            #expect(client.isConnected)
        }
    }

    @Test func binaryKeysAndValuesWithNULBytes() async throws {
        try await withClient("binary") { (client, prefix) async throws in
            let key = Array(prefix.utf8) + [0, 0x0A, 0xFF]
            let value: [UInt8] = [0, 1, 0, 255, 13, 10, 0, 0x80] + Array(repeating: 0, count: 1000)
            #expect(try await client.command(bytes: [Array("SET".utf8), key, value]) == .status("OK"))
            #expect(try await client.command(bytes: [Array("GET".utf8), key]) == .bulk(value))
            #expect(try await client.command(bytes: [Array("STRLEN".utf8), key]) == .integer(Int64(value.count)))
            #expect(try await client.command(bytes: [Array("SET".utf8), key + [1], []]) == .status("OK"))
            #expect(try await client.command(bytes: [Array("GET".utf8), key + [1]]) == .bulk([]))
        }
    }

    @Test func concurrentCallersEachGetTheirOwnReply() async throws {
        try await withClient("concurrent") { client, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let reply = try await client.command("ECHO", "caller-\(index)")
                        #expect(reply.string == "caller-\(index)")
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func emptyCommandIsRejectedWithoutBeingSent() async throws {
        try await withClient("empty") { (client, _) async throws in
            await #expect(throws: RedisError.protocolError("a command needs at least its name")) {
                try await client.command([])
            }
            #expect(try await client.command("PING") == .status("PONG"))
        }
    }
}
