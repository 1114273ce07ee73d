import Redis
import Testing

/// The service relies on commands from one caller reaching Redis in the order they were issued
/// (a registration before its unregistration). `enqueue` queues without awaiting, so many
/// commands are in flight at once. The `Task.yield()` every few submissions lets other work run
/// in between, as it would for a real caller: if submission went through unordered tasks, both
/// cooperative threads would then pick up queued submissions at once and reorder them.
@Suite("RedisClient ordering")
struct RedisOrderingTests {
    @Test func enqueuedCommandsRunInSubmissionOrder() async throws {
        try await withClient("fifo") { client, prefix in
            let key = "\(prefix)list"
            // Many, so that an ordering bug that shows only now and then is all but sure to show.
            let count = 5000
            var pending: [RedisPendingReply] = []
            for value in 1...count {
                pending.append(client.enqueue(["RPUSH", key, "\(value)"]))
                if value % 8 == 0 { await Task.yield() }
            }
            // Each RPUSH answers with the list's new length: in order, the n-th push answers n.
            var replies: [RedisValue] = []
            for reply in pending { replies.append(try await reply.value) }
            #expect(replies == (1...count).map { .integer(Int64($0)) })
            let list = try #require(try await client.command("LRANGE", key, "0", "-1").array)
            #expect(list.compactMap(\.string) == (1...count).map(String.init))
        }
    }

    @Test func registrationThenUnregistrationFromOneTaskKeepsOrder() async throws {
        try await withClient("fifo-register") { (client, prefix) async throws in
            let key = "\(prefix)registry"
            for connection in 0..<2000 {
                // Fire-and-forget registration, then unregistration: only their order decides
                // whether the entry is left behind.
                _ = client.enqueue(["HSET", key, "conn-\(connection)", "node-a"])
                _ = client.enqueue(["HDEL", key, "conn-\(connection)"])
                if connection % 4 == 0 { await Task.yield() }
            }
            #expect(try await client.command("HLEN", key) == .integer(0))
        }
    }

    @Test func anAwaitedCommandSeesEverythingEnqueuedBeforeIt() async throws {
        try await withClient("fifo-mixed") { (client, prefix) async throws in
            for value in 1...100 {
                _ = client.enqueue(["SET", "\(prefix)k", "\(value)"])
                if value % 8 == 0 { await Task.yield() }
            }
            #expect(try await client.command("GET", "\(prefix)k").int == 100)
        }
    }
}
