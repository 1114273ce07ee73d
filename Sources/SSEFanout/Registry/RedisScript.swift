import Crypto
import Redis

/// A Lua script sent by its SHA1 (`EVALSHA`), so that a registration does not carry the script's
/// text; in full (`EVAL`, which also loads it) only when Redis answers NOSCRIPT: after a restart, a
/// flush, or the first time.
struct RedisScript: Sendable {
    let source: String
    let sha: String

    init(_ source: String) {
        self.source = source
        self.sha = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The call with `arguments` (the scripts here take no KEYS; see `RedisRegistry.script`).
    func call(_ arguments: [String], loading: Bool = false) -> [String] {
        (loading ? ["EVAL", source, "0"] : ["EVALSHA", sha, "0"]) + arguments
    }

    static func isUnknownScript(_ reply: RedisValue) -> Bool {
        if case .error(let message) = reply { return message.hasPrefix("NOSCRIPT") }
        return false
    }

    /// Runs the script once per element of `calls`, in one pipeline, loading it when Redis lacks it;
    /// `completion` gets the replies on the connection's loop (the caller's, when it is on one).
    func run(
        _ calls: [[String]], on client: RedisClient, completion: @escaping @Sendable (Result<[RedisValue], RedisError>) -> Void
    ) {
        client.pipeline(calls.map { call($0) }) { [self] result in
            guard case .success(let replies) = result, replies.contains(where: Self.isUnknownScript) else { return completion(result) }
            // Nothing ran: send them again, the first in full (which loads the script for the others).
            client.pipeline(calls.enumerated().map { call($1, loading: $0 == 0) }, completion: completion)
        }
    }

    /// One call, awaited; an error reply throws.
    func run(_ arguments: [String], on client: RedisClient) async throws -> RedisValue {
        let replies = try await withCheckedThrowingContinuation { continuation in
            run([arguments], on: client) { continuation.resume(with: $0) }
        }
        if case .error(let message) = replies[0] { throw RedisError.server(message) }
        return replies[0]
    }
}
