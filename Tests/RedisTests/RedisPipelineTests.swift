import Redis
import Testing

@Suite("RedisClient.pipeline")
struct RedisPipelineTests {
    @Test func repliesComeBackInOrderWithErrorsInPlace() async throws {
        try await withClient("pipeline") { client, prefix in
            let replies = try await client.pipeline([
                ["SET", "\(prefix)counter", "10"],
                ["INCR", "\(prefix)counter"],
                ["SET", "\(prefix)text", "abc"],
                ["INCR", "\(prefix)text"],
                ["GET", "\(prefix)counter"],
                ["RPUSH", "\(prefix)list", "a", "b"],
                ["LRANGE", "\(prefix)list", "0", "-1"],
                ["GET", "\(prefix)missing"],
            ])
            #expect(
                replies == [
                    .status("OK"),
                    .integer(11),
                    .status("OK"),
                    .error("ERR value is not an integer or out of range"),
                    .bulk(Array("11".utf8)),
                    .integer(2),
                    .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]),
                    .null,
                ])
            // The connection is still usable after a pipeline with an error reply.
            #expect(try await client.command("GET", "\(prefix)counter").int == 11)
        }
    }

    @Test func largePipelineAndBinaryCommands() async throws {
        try await withClient("pipeline-large") { client, prefix in
            let commands = (0..<2000).map { ["SET", "\(prefix)\($0)", "value-\($0)"] }
            let replies = try await client.pipeline(commands)
            #expect(replies.count == 2000)
            #expect(replies.allSatisfy { $0 == .status("OK") })

            let key = Array(prefix.utf8) + [0]
            let binary = try await client.pipeline(bytes: [
                [Array("SET".utf8), key, [0, 1, 2]],
                [Array("GET".utf8), key],
            ])
            #expect(binary == [.status("OK"), .bulk([0, 1, 2])])
            #expect(try await client.pipeline([]) == [])
        }
    }
}
