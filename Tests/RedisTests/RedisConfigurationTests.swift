import Redis
import Testing

@Suite("RedisConfiguration(url:)")
struct RedisConfigurationTests {
    @Test func fullURL() throws {
        let configuration = try RedisConfiguration(url: "redis://:s3cret@cache.internal:6380/2")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 2)
        #expect(configuration.password == "s3cret")
        #expect(configuration.username == nil)
    }

    @Test func defaults() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration.host == "localhost")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.password == nil)
        #expect(configuration.connectTimeout == .seconds(2))
        #expect(configuration.commandTimeout == .seconds(2))
        #expect(try RedisConfiguration(url: "redis://localhost/").database == 0)
        #expect(try RedisConfiguration(url: "REDIS://localhost:7000").port == 7000)
    }

    @Test func passwordWithUserAndEscapes() throws {
        let configuration = try RedisConfiguration(url: "redis://app:p%40ss%2Fw:rd@10.0.0.5/1")
        #expect(configuration.username == "app")
        #expect(configuration.password == "p@ss/w:rd")
        #expect(configuration.host == "10.0.0.5")
        #expect(configuration.database == 1)
        // An unescaped "@" in the password still parses: credentials end at the last "@".
        #expect(try RedisConfiguration(url: "redis://:a@b@host").password == "a@b")
    }

    @Test func ipv6Host() throws {
        let configuration = try RedisConfiguration(url: "redis://[::1]:6390/3")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 6390)
        #expect(configuration.database == 3)
    }

    @Test func descriptionHidesThePassword() throws {
        let configuration = try RedisConfiguration(url: "redis://:s3cret@cache:6380/2")
        #expect("\(configuration)" == "redis://:***@cache:6380/2")
        #expect(!"\(configuration)".contains("s3cret"))
    }

    @Test(arguments: [
        ("http://localhost", "scheme must be redis://, not http://"),
        ("rediss://localhost", "TLS (rediss://) is not supported"),
        ("localhost:6379", "expected redis://[:password@]host[:port][/db]"),
        ("redis://", "host is missing"),
        ("redis://:pw@:6379", "host is missing"),
        ("redis://host:", "port '' must be a number from 1 to 65535"),
        ("redis://host:abc", "port 'abc' must be a number from 1 to 65535"),
        ("redis://host:70000", "port '70000' must be a number from 1 to 65535"),
        ("redis://host:0", "port '0' must be a number from 1 to 65535"),
        ("redis://host/x", "database 'x' must be a non-negative number"),
        ("redis://host/-1", "database '-1' must be a non-negative number"),
        ("redis://host/1/2", "database '1/2' must be a non-negative number"),
        ("redis://host?db=1", "query parameters and fragments are not supported; put the database in the path (/db)"),
        ("redis://secret@host", "credentials must be written :password@ or user:password@"),
        ("redis://:bad%zz@host", "password has a % that is not followed by two hex digits"),
        ("redis://[::1/0", "IPv6 host is missing its closing ]"),
    ])
    func invalidURLsSayWhatIsWrong(url: String, message: String) {
        #expect(throws: RedisError.invalidURL(message)) {
            try RedisConfiguration(url: url)
        }
    }

    @Test func invalidURLErrorsDoNotEchoThePassword() {
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://topsecret@host") }
        #expect(error.map { !"\($0)".contains("topsecret") } == true)
        #expect(error.map { "\($0)".hasPrefix("invalid Redis URL: ") } == true)
    }

    @Test(arguments: [
        ("10.0.0.1:26379", RedisEndpoint(host: "10.0.0.1", port: 26379)),
        ("sentinel-a:1", RedisEndpoint(host: "sentinel-a", port: 1)),
        ("[::1]:26379", RedisEndpoint(host: "::1", port: 26379)),
    ])
    func endpointsParse(text: String, endpoint: RedisEndpoint) throws {
        #expect(try RedisEndpoint(parsing: text) == endpoint)
        #expect(endpoint.description == text)
    }

    @Test(arguments: ["sentinel", ":26379", "host:", "host:0", "host:65536", "[::1]26379", "host:port"])
    func endpointsThatDoNotParseSaySo(text: String) {
        #expect(throws: RedisError.self) { try RedisEndpoint(parsing: text) }
    }
}
