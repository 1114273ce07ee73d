/// The Lua script behind every registry write (README, "Redis key schema"). One call registers,
/// unregisters, or reaps a batch of a dead node's connections, atomically: the presence indexes
/// and the answer to "was this the first (last) connection of this user, this channel?" can never
/// disagree, and of several nodes reaping the same dead node each connection is removed, and
/// reported, by exactly one.
///
/// The script knows no kind of address by name but `user` (whose connections say which users a scope
/// lists) and `tenant` (every connection's scope): what it does for each address of a connection comes
/// from `Address.Kind.presence` and `occupancyEvents`, written into the script as a table.
///
/// Keys are spelled here from the prefix (as `RedisKeys` spells them) rather than passed as KEYS: the
/// reaper learns a connection's keys only from its hash, inside the script. The registry runs on one
/// Redis, not a Redis Cluster, so that is allowed.
///
/// Calls (ARGV):
/// - `r prefix id node tenant connectedAt n field×n m addressKey×m joinedKey…`, the fields being
///   `ConnectionCodec.hashFields` → `{sequence, addressKey…}`: the keys whose first connection this is;
///   `{0}` when it was registered already;
/// - `u prefix id node tenant m addressKey×m leftKey…` → `{sequence, addressKey…}`: whose last
///   connection this was; `{0}` when it was removed already;
/// - `x prefix node count cutoff` → `{popped, {{id, {hash field, value…}, {sequence, addressKey…}}…}}`
///   for at most `count` of the node's connections; `{0, {}}` when `cutoff` (ms) is given and the node's
///   lease in `nodes` runs out later (it was renewed: alive).
enum RegistryScript {
    static let script = RedisScript(source)

    /// Per kind: `i` its connections are indexed, `u` its users listed, `f` its first and last
    /// connection reported.
    static var kindTable: String {
        let entries = Address.Kind.allCases.compactMap { kind -> String? in
            var flags = ""
            if kind.presence.contains(.indexed) { flags += "i" }
            if kind.presence.contains(.listsUsers) { flags += "u" }
            if kind.occupancyEvents != nil { flags += "f" }
            return flags.isEmpty ? nil : "\(kind.rawValue)='\(flags)'"
        }
        return "{" + entries.joined(separator: ", ") + "}"
    }

    static let source = """
        local op, P = ARGV[1], ARGV[2]
        local KINDS = \(kindTable)

        local function flags(key) return KINDS[key:match('^[^@:]+')] or '' end
        local function conns(key) return P .. 'presence:conns:' .. key end
        local function users(key) return P .. 'presence:users:' .. key end
        -- The user address among a connection's keys, and the user's id (after the first ':').
        local function userKey(keys)
          for _, key in ipairs(keys) do
            if key:match('^[^@:]+') == 'user' then return key, key:match('^[^:]*:(.*)$') end
          end
        end

        local function add(id, tenant, keys, since)
          local tkey = 'tenant@' .. tenant
          if redis.call('ZADD', conns(tkey), 0, id) == 0 then return {0} end
          local ukey, user = userKey(keys)
          local reply = {0}
          for _, key in ipairs(keys) do
            local f = flags(key)
            if f:find('i', 1, true) then
              redis.call('ZADD', conns(key), 0, id)
              if user and f:find('u', 1, true) then redis.call('ZADD', users(key), 0, user) end
              if f:find('f', 1, true) and redis.call('ZCARD', conns(key)) == 1 then reply[#reply + 1] = key end
            end
          end
          -- The user's first connection lists them in the tenant, online since now.
          if user and redis.call('ZCARD', conns(ukey)) == 1 then
            redis.call('ZADD', users(tkey), 0, user)
            redis.call('HSET', P .. 'presence:since:' .. tkey, user, since)
          end
          reply[1] = redis.call('INCR', P .. 'presence:seq')
          return reply
        end

        local function remove(id, tenant, keys)
          local tkey = 'tenant@' .. tenant
          if redis.call('ZREM', conns(tkey), id) == 0 then return {0} end
          local reply = {0}
          for _, key in ipairs(keys) do
            local f = flags(key)
            if f:find('i', 1, true) then
              redis.call('ZREM', conns(key), id)
              if f:find('f', 1, true) and redis.call('ZCARD', conns(key)) == 0 then reply[#reply + 1] = key end
            end
          end
          local ukey, user = userKey(keys)
          if user then
            local online = redis.call('EXISTS', conns(ukey)) == 1
            if not online then
              redis.call('ZREM', users(tkey), user)
              redis.call('HDEL', P .. 'presence:since:' .. tkey, user)
            end
            -- A scope keeps listing the user while another of their connections is in it.
            for _, key in ipairs(keys) do
              if flags(key):find('u', 1, true)
                and (not online or redis.call('ZINTERCARD', 2, conns(ukey), conns(key), 'LIMIT', 1) == 0) then
                redis.call('ZREM', users(key), user)
              end
            end
          end
          reply[1] = redis.call('INCR', P .. 'presence:seq')
          return reply
        end

        -- A hash the previous release wrote has no `addresses`: its indexed keys come from its fields.
        local function previousKeys(h)
          local function akey(kind, id)
            if h.tenant == '' then return kind .. ':' .. id end
            return kind .. '@' .. h.tenant .. ':' .. id
          end
          local keys = {}
          if (h.user or '') ~= '' then keys[#keys + 1] = akey('user', h.user) end
          if (h.session or '') ~= '' then keys[#keys + 1] = akey('session', h.session) end
          local ok, channels = pcall(cjson.decode, h.channels or '[]')
          if ok and type(channels) == 'table' then
            for _, channel in ipairs(channels) do keys[#keys + 1] = akey('channel', channel) end
          end
          return keys
        end

        local function hashKeys(h)
          if not h.addresses then return previousKeys(h) end
          local ok, keys = pcall(cjson.decode, h.addresses)
          if ok and type(keys) == 'table' then return keys end
          return {}
        end

        if op == 'r' then
          local id, node, tenant, since, n = ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
          local fields = {}
          for i = 1, n do fields[i] = ARGV[7 + i] end
          redis.call('HSET', P .. 'conn:' .. id, unpack(fields))
          redis.call('SADD', P .. 'node:' .. node .. ':connections', id)
          local m = tonumber(ARGV[8 + n])
          local keys = {}
          for i = 1, m do keys[i] = ARGV[8 + n + i] end
          for i = 9 + n + m, #ARGV do
            redis.call('SADD', P .. 'addr:' .. ARGV[i], node)
            redis.call('SADD', P .. 'node:' .. node .. ':addresses', ARGV[i])
          end
          return add(id, tenant, keys, since)
        elseif op == 'u' then
          local id, node, tenant, m = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
          redis.call('DEL', P .. 'conn:' .. id)
          redis.call('SREM', P .. 'node:' .. node .. ':connections', id)
          local keys = {}
          for i = 1, m do keys[i] = ARGV[6 + i] end
          for i = 7 + m, #ARGV do
            redis.call('SREM', P .. 'addr:' .. ARGV[i], node)
            redis.call('SREM', P .. 'node:' .. node .. ':addresses', ARGV[i])
          end
          return remove(id, tenant, keys)
        elseif op == 'x' then
          local node = ARGV[3]
          if ARGV[5] ~= '' then
            local expiry = redis.call('ZSCORE', P .. 'nodes', node)
            if expiry and tonumber(expiry) > tonumber(ARGV[5]) then return {0, {}} end
          end
          -- Popped, so that a concurrent reaper of the same node gets other connections, or none.
          local ids = redis.call('SPOP', P .. 'node:' .. node .. ':connections', tonumber(ARGV[4]))
          local removed = {}
          for _, id in ipairs(ids) do
            local key = P .. 'conn:' .. id
            local flat = redis.call('HGETALL', key)
            local h = {}
            for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
            -- A hash that names another node is not this node's to remove.
            if h.node == node then
              redis.call('DEL', key)
              h.tenant = h.tenant or ''
              local change = remove(id, h.tenant, hashKeys(h))
              if change[1] ~= 0 then removed[#removed + 1] = {id, flat, change} end
            end
          end
          return {#ids, removed}
        end
        return redis.error_reply('unknown registry operation ' .. tostring(op))
        """
}
