/// A way to hand one publish body to the server: HTTP (a connection per publish, or keep-alive
/// connections) or straight to RabbitMQ. Every call ends by itself (each transport has a timeout).
protocol PublishTransport: Sendable {
    /// Human-readable: where and how publishes go.
    var description: String { get }
    func publish(_ body: [UInt8]) async -> PublishAnswer
    /// Hands the body over now, so publishes leave in the order of these calls, and returns the wait
    /// for its answer. Transports that cannot send without waiting send when the wait starts.
    func send(_ body: [UInt8]) -> @Sendable () async -> PublishAnswer
    /// Closes connections; publishes still waiting fail.
    func shutdown() async
}

extension PublishTransport {
    func send(_ body: [UInt8]) -> @Sendable () async -> PublishAnswer {
        { await self.publish(body) }
    }
}
