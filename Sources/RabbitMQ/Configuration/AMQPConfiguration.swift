/// Where and how to connect to RabbitMQ; one value shared by publishers and consumers.
public struct AMQPConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    /// Bound on the TCP connect plus the AMQP login handshake.
    public var connectTimeout: Duration = .seconds(5)
    /// Bound on each request/reply exchange with the broker, including waiting for a publisher confirm.
    public var rpcTimeout: Duration = .seconds(5)
    /// Heartbeat interval in seconds proposed to the broker; 0 disables heartbeats.
    public var heartbeat: Int = 30
    /// Sent as the client property "connection_name", so operators can tell connections apart.
    public var connectionName: String? = nil

    public init(
        host: String = "localhost",
        port: Int = 5672,
        user: String = "guest",
        password: String = "guest",
        vhost: String = "/"
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
    }
}

extension AMQPConfiguration: CustomStringConvertible {
    /// The connection target without the password, for logs.
    public var description: String {
        "amqp://\(user)@\(host):\(port) vhost '\(vhost)'"
    }
}
