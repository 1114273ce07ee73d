@testable import Redis
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

    /// While the thread waits on a blocking command, callers queue pipelines of different lengths
    /// (they go out on its next turn as one, `RedisConnection.serve`): each caller gets exactly its own
    /// replies, in order.
    @Test func pipelinesQueuedWhileTheThreadIsBusyEachGetTheirOwnReplies() async throws {
        try await withClient("pipeline-together") { client, prefix in
            let blocking = client.enqueue(["BLPOP", "\(prefix)never", "0.2"])
            // Queued one after the other, right now, behind the BLPOP.
            let (answers, answered) = AsyncStream.makeStream(of: (Int, Result<[RedisValue], RedisError>).self)
            client.pipeline([["SET", "\(prefix)a", "1"], ["INCR", "\(prefix)a"]]) { answered.yield((0, $0)) }
            client.pipeline([["SET", "\(prefix)t", "x"], ["INCR", "\(prefix)t"], ["GET", "\(prefix)missing"]]) { answered.yield((1, $0)) }
            let third = client.enqueue(["INCR", "\(prefix)a"])
            #expect(try await blocking.value == .null)
            var replies: [Int: [RedisValue]] = [:]
            for await (index, result) in answers.prefix(2) { replies[index] = try result.get() }
            #expect(replies[0] == [.status("OK"), .integer(2)])
            #expect(replies[1] == [.status("OK"), .error("ERR value is not an integer or out of range"), .null])
            #expect(try await third.value.int == 3)
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
