extension AMQPConfiguration {
    /// Parses `amqp://user:password@host:port/vhost`.
    ///
    /// User, password and vhost are percent-decoded (`%2f` is `/`). Missing parts default to
    /// guest/guest, localhost, port 5672 and vhost `/` (also for an empty path). Query parameters
    /// `heartbeat` (seconds) and `connection_timeout` (milliseconds) are understood, as in
    /// RabbitMQ's URI spec. TLS (`amqps`) is not supported.
    public init(url: String) throws {
        self.init()
        let parser = AMQPURLParser(url: url)
        let parts = try parser.parse()
        if let user = parts.user { self.user = user }
        if let password = parts.password { self.password = password }
        if let host = parts.host { self.host = host }
        if let port = parts.port { self.port = port }
        if let vhost = parts.vhost { self.vhost = vhost }
        if let heartbeat = parts.heartbeat { self.heartbeat = heartbeat }
        if let connectTimeout = parts.connectTimeout { self.connectTimeout = connectTimeout }
    }
}
