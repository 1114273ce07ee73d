import Redis

/// `SendClaims` in Redis: `sse:send:<tenant>:<user>:<key>` holds `pending:<id>` (expiring after the
/// lapse) or `done:<id>` (an hour). Each step is one script, so two attempts racing on one key never
/// both claim it.
public final class RedisSendClaims: SendClaims {
    private let client: RedisClient
    private let keys: RedisKeys

    /// ARGV: key, send id, lapse ms. Answers `claimed`, or what the key holds (`pending:…`, `done:…`).
    private static let claimScript = RedisScript("""
        local current = redis.call('GET', ARGV[1])
        if current then return current end
        redis.call('SET', ARGV[1], 'pending:' .. ARGV[2], 'PX', ARGV[3])
        return 'claimed'
        """)
    /// ARGV: key, send id, ms to keep. Marks done unless another attempt holds the key (this one lapsed).
    private static let completeScript = RedisScript("""
        local current = redis.call('GET', ARGV[1])
        if current and current ~= 'pending:' .. ARGV[2] then return 0 end
        redis.call('SET', ARGV[1], 'done:' .. ARGV[2], 'PX', ARGV[3])
        return 1
        """)
    /// ARGV: key, send id. Deletes the claim only while it is this attempt's.
    private static let releaseScript = RedisScript("""
        if redis.call('GET', ARGV[1]) == 'pending:' .. ARGV[2] then return redis.call('DEL', ARGV[1]) end
        return 0
        """)

    public init(client: RedisClient, keys: RedisKeys) {
        self.client = client
        self.keys = keys
    }

    public func claim(_ key: SendClaimKey, id: String, lapse: Duration) async throws -> SendClaim {
        let reply = try await Self.claimScript.run([redisKey(key), id, String(Self.milliseconds(lapse))], on: client)
        guard let text = reply.string else { throw RedisError.protocolError("claiming a send answered \(reply)") }
        if text == "claimed" { return .claimed }
        if text.hasPrefix("done:") { return .done(id: String(text.dropFirst(5))) }
        return .inFlight
    }

    public func complete(_ key: SendClaimKey, id: String) async throws {
        _ = try await Self.completeScript.run([redisKey(key), id, String(Self.milliseconds(sendClaimDoneLifetime))], on: client)
    }

    public func release(_ key: SendClaimKey, id: String) async {
        _ = try? await Self.releaseScript.run([redisKey(key), id], on: client)
    }

    private func redisKey(_ key: SendClaimKey) -> String {
        keys.send(tenant: key.tenant, user: key.user ?? "", key: key.key)
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
