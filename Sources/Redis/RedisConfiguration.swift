/// Where and how a `RedisClient` connects. Built once, usually from a URL, and passed down.
public struct RedisConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The database selected with SELECT after every (re)connect.
    public var database: Int
    /// The ACL user sent with AUTH; nil authenticates as the default user (password only).
    public var username: String?
    /// Sent with AUTH after every (re)connect when set.
    public var password: String?
    /// How long one connection attempt may take.
    public var connectTimeout: Duration = .seconds(2)
    /// How long a command (or a whole pipeline) may wait for the server; zero waits forever.
    /// Blocking commands such as BLPOP must use a server-side timeout shorter than this.
    public var commandTimeout: Duration = .seconds(2)
    /// The wait after the first failed connection attempt; it doubles with each further failure.
    public var reconnectBackoffInitial: Duration = .milliseconds(100)
    /// The longest wait between connection attempts.
    public var reconnectBackoffMaximum: Duration = .seconds(5)
    /// Sentinels to ask where the primary is (Redis Sentinel): when set, `host` and `port` are not
    /// used. Each connection asks them in turn before it connects, checks with `ROLE` that it reached
    /// the primary, and asks again when it meets `READONLY`, when its connection drops, and every
    /// `sentinelCheckInterval` while connected (a missed `+switch-master` must not pin it to a replica).
    public var sentinels: [RedisEndpoint] = []
    /// The name the sentinels monitor the primary under (`sentinel monitor <name> ...`).
    public var masterName = ""
    /// The sentinels' own password (`requirepass` in their configuration), when they have one.
    public var sentinelPassword: String?
    /// How long a sentinel may take to answer before the next one is asked.
    public var sentinelTimeout: Duration = .milliseconds(500)
    /// How often a connection asks a sentinel whether its server is still the primary.
    public var sentinelCheckInterval: Duration = .seconds(5)

    public init(host: String, port: Int = 6379, database: Int = 0, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]`; the port defaults to 6379 and the
    /// database to 0. Percent-escapes in the user name and password are decoded.
    /// Throws `RedisError.invalidURL` naming the part that is wrong.
    public init(url: String) throws {
        let parsed = try RedisURL(parsing: url)
        self.init(
            host: parsed.host, port: parsed.port, database: parsed.database,
            username: parsed.username, password: parsed.password)
    }

    /// "host:port/db", or the primary's name and its sentinels, for log lines and messages.
    var endpoint: String {
        if !sentinels.isEmpty {
            return "\(masterName) via sentinels \(sentinels.map(\.description).joined(separator: ","))/\(database)"
        }
        return "\(RedisEndpoint(host: host, port: port))/\(database)"
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// Redacts the password, so configurations can be logged.
    public var description: String {
        let credentials = password == nil ? "" : "\(username ?? ""):***@"
        return "redis://\(credentials)\(endpoint)"
    }
}
