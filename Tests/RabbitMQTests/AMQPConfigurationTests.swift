import Testing
@testable import RabbitMQ

@Suite("AMQPConfiguration(url:)")
struct AMQPConfigurationTests {
    @Test("parses every part of a full URL, percent-decoding user, password and vhost")
    func fullURL() throws {
        let configuration = try AMQPConfiguration(url: "amqp://sse%2Duser:p%40ss:word@broker.example:5673/prod%2fsse")
        #expect(configuration.user == "sse-user")
        #expect(configuration.password == "p@ss:word")
        #expect(configuration.host == "broker.example")
        #expect(configuration.port == 5673)
        #expect(configuration.vhost == "prod/sse")
    }

    @Test("fills in guest/guest, localhost, port 5672 and vhost / when parts are missing")
    func defaults() throws {
        for url in ["amqp://", "amqp://localhost", "amqp://localhost/", "AMQP://localhost:5672/"] {
            let configuration = try AMQPConfiguration(url: url)
            #expect(configuration.user == "guest", "\(url)")
            #expect(configuration.password == "guest", "\(url)")
            #expect(configuration.host == "localhost", "\(url)")
            #expect(configuration.port == 5672, "\(url)")
            #expect(configuration.vhost == "/", "\(url)")
        }
        let configuration = try AMQPConfiguration(url: "amqp://only-user@rabbit")
        #expect(configuration.user == "only-user")
        #expect(configuration.password == "guest")
        #expect(configuration.heartbeat == 30)
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(configuration.rpcTimeout == .seconds(5))
        #expect(configuration.connectionName == nil)
    }

    @Test("decodes %2f in the vhost to /")
    func percentDecodedVhost() throws {
        #expect(try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:5682/%2f").vhost == "/")
        #expect(try AMQPConfiguration(url: "amqp://h/%2Fevents").vhost == "/events")
        #expect(try AMQPConfiguration(url: "amqp://h/events").vhost == "events")
    }

    @Test("accepts an IPv6 host and the heartbeat and connection_timeout query parameters")
    func ipv6AndQuery() throws {
        let configuration = try AMQPConfiguration(url: "amqp://[::1]:5673/?heartbeat=10&connection_timeout=2500")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 5673)
        #expect(configuration.vhost == "/")
        #expect(configuration.heartbeat == 10)
        #expect(configuration.connectTimeout == .milliseconds(2500))
    }

    @Test(
        "rejects a malformed URL with a message naming the problem, never showing the password",
        arguments: [
            ("broker:5672", "expected amqp://"),
            ("http://broker", "scheme must be amqp"),
            ("amqps://broker", "amqps (TLS) is not supported"),
            ("amqp://user:secret@broker:abc/", "port 'abc'"),
            ("amqp://user:secret@broker:70000", "port '70000'"),
            ("amqp://broker:", "port ''"),
            ("amqp://broker/a/b", "write it as %2F"),
            ("amqp://broker/%zz", "vhost has a '%'"),
            ("amqp://user:secret@broker/?frame_max=1", "unknown query parameter 'frame_max'"),
            ("amqp://[::1/", "closing ']'"),
        ])
    func invalidURL(url: String, expectedMessage: String) throws {
        let error = try #require(throws: AMQPError.self) { try AMQPConfiguration(url: url) }
        guard case .invalidURL(let message) = error else {
            Issue.record("expected invalidURL, got \(error)")
            return
        }
        #expect(message.contains(expectedMessage), "\(message)")
        #expect(!message.contains("secret"), "\(message)")
        #expect(error.description.hasPrefix("invalid AMQP URL: "))
    }
}
