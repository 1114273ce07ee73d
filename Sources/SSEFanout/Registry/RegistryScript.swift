/// The Lua script behind every registry write (README, "Redis key schema"). One call registers,
/// unregisters, or reaps a batch of a dead node's connections, atomically: the presence indexes
/// and the answer to "was this the user's first (last) connection, the channel's first (last)
/// subscriber?" can never disagree, and of several nodes reaping the same dead node each connection is
/// removed, and reported, by exactly one.
///
/// Keys are spelled here from the prefix (as `RedisKeys` spells them) rather than passed as KEYS: the
/// reaper learns a connection's keys only from its hash, inside the script. The registry runs on one
/// Redis, not a Redis Cluster, so that is allowed.
///
/// Calls (ARGV):
/// - `r prefix id node user tenant session clientId channelsJSON connectedAt n channel×n joinedKey…`
///   → `{sequence, online, occupied channel…}`, `{0, 0}` when it was registered already;
/// - `u prefix id node user tenant session n channel×n leftKey…`
///   → `{sequence, offline, vacated channel…}`, `{0, 0}` when it was removed already;
/// - `x prefix node count cutoff` → `{popped, {{id, user, tenant, session, clientId, channelsJSON, connectedAt,
///   {sequence, offline, vacated…}}…}}` for at most `count` of the node's connections; `{0, {}}` when
///   `cutoff` (ms) is given and the node's lease in `nodes` runs out later (it was renewed: alive).
///
/// Users and sessions are "" when the connection has none (ids are never empty).
enum RegistryScript {
    static let script = RedisScript(
        #"""
        local op, P = ARGV[1], ARGV[2]

        local function akey(kind, tenant, id)
          if tenant == '' then return kind .. ':' .. id end
          return kind .. '@' .. tenant .. ':' .. id
        end
        local function conns(key) return P .. 'presence:conns:' .. key end
        local function users(key) return P .. 'presence:users:' .. key end

        local function add(id, user, tenant, session, channels, since)
          local tkey = 'tenant@' .. tenant
          if redis.call('ZADD', conns(tkey), 0, id) == 0 then return {0, 0} end
          local online = 0
          if user ~= '' then
            local ukey = conns(akey('user', tenant, user))
            redis.call('ZADD', ukey, 0, id)
            if redis.call('ZCARD', ukey) == 1 then
              online = 1
              redis.call('ZADD', users(tkey), 0, user)
              redis.call('HSET', P .. 'presence:since:' .. tkey, user, since)
            end
          end
          if session ~= '' then redis.call('ZADD', conns(akey('session', tenant, session)), 0, id) end
          local reply = {0, online}
          for _, channel in ipairs(channels) do
            local ckey = akey('channel', tenant, channel)
            redis.call('ZADD', conns(ckey), 0, id)
            if user ~= '' then redis.call('ZADD', users(ckey), 0, user) end
            if redis.call('ZCARD', conns(ckey)) == 1 then reply[#reply + 1] = channel end
          end
          reply[1] = redis.call('INCR', P .. 'presence:seq')
          return reply
        end

        local function remove(id, user, tenant, session, channels)
          local tkey = 'tenant@' .. tenant
          if redis.call('ZREM', conns(tkey), id) == 0 then return {0, 0} end
          local offline = 0
          local ukey = conns(akey('user', tenant, user))
          if user ~= '' then
            redis.call('ZREM', ukey, id)
            if redis.call('ZCARD', ukey) == 0 then
              offline = 1
              redis.call('ZREM', users(tkey), user)
              redis.call('HDEL', P .. 'presence:since:' .. tkey, user)
            end
          end
          if session ~= '' then redis.call('ZREM', conns(akey('session', tenant, session)), id) end
          local reply = {0, offline}
          for _, channel in ipairs(channels) do
            local ckey = akey('channel', tenant, channel)
            redis.call('ZREM', conns(ckey), id)
            -- The user stays listed in the channel while another of their connections is subscribed.
            if user ~= '' and (offline == 1 or redis.call('ZINTERCARD', 2, ukey, conns(ckey), 'LIMIT', 1) == 0) then
              redis.call('ZREM', users(ckey), user)
            end
            if redis.call('ZCARD', conns(ckey)) == 0 then reply[#reply + 1] = channel end
          end
          reply[1] = redis.call('INCR', P .. 'presence:seq')
          return reply
        end

        if op == 'r' then
          local id, node, n = ARGV[3], ARGV[4], tonumber(ARGV[11])
          redis.call('HSET', P .. 'conn:' .. id, 'node', node, 'user', ARGV[5], 'tenant', ARGV[6], 'session', ARGV[7],
            'clientId', ARGV[8], 'channels', ARGV[9], 'connectedAt', ARGV[10])
          redis.call('SADD', P .. 'node:' .. node .. ':connections', id)
          for i = 12 + n, #ARGV do
            redis.call('SADD', P .. 'addr:' .. ARGV[i], node)
            redis.call('SADD', P .. 'node:' .. node .. ':addresses', ARGV[i])
          end
          local channels = {}
          for i = 1, n do channels[i] = ARGV[11 + i] end
          return add(id, ARGV[5], ARGV[6], ARGV[7], channels, ARGV[10])
        elseif op == 'u' then
          local id, node, n = ARGV[3], ARGV[4], tonumber(ARGV[8])
          redis.call('DEL', P .. 'conn:' .. id)
          redis.call('SREM', P .. 'node:' .. node .. ':connections', id)
          for i = 9 + n, #ARGV do
            redis.call('SREM', P .. 'addr:' .. ARGV[i], node)
            redis.call('SREM', P .. 'node:' .. node .. ':addresses', ARGV[i])
          end
          local channels = {}
          for i = 1, n do channels[i] = ARGV[8 + i] end
          return remove(id, ARGV[5], ARGV[6], ARGV[7], channels)
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
            local f = redis.call('HMGET', key, 'node', 'user', 'tenant', 'session', 'clientId', 'channels', 'connectedAt')
            -- A hash that names another node is not this node's to remove.
            if f[1] == node then
              redis.call('DEL', key)
              local json = f[6] or '[]'
              local ok, channels = pcall(cjson.decode, json)
              if not ok or type(channels) ~= 'table' then channels = {} end
              local change = remove(id, f[2] or '', f[3] or '', f[4] or '', channels)
              if change[1] ~= 0 then
                removed[#removed + 1] = {id, f[2] or '', f[3] or '', f[4] or '', f[5] or '', json, f[7] or '0', change}
              end
            end
          end
          return {#ids, removed}
        end
        return redis.error_reply('unknown registry operation ' .. tostring(op))
        """#)
}
