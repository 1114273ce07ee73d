/// A way to hand one publish body to the server: HTTP (a connection per publish, or keep-alive
/// connections) or straight to RabbitMQ. Every call ends by itself (each transport has a timeout).
protocol PublishTransport: Sendable {
    /// Human-readable: where and how publishes go.
    var description: String { get }
    func publish(_ body: [UInt8]) async -> PublishAnswer
    /// Closes connections; publishes still waiting fail.
    func shutdown() async
}
