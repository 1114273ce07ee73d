import ArgumentParser

/// Where and how a scenario publishes: over HTTP (`--publish-url`) or straight to RabbitMQ (`--amqp-url`).
struct PublisherOptions: ParsableArguments {
    @Option(name: .customLong("publish-url"), help: "POST publishes here: http://127.0.0.1:8080/publish, or nchan's http://127.0.0.1:18091/pub/bench.")
    var publishURL: String?

    @Option(name: .customLong("amqp-url"), help: "Publish straight to RabbitMQ instead (the publish JSON as message body), e.g. amqp://guest:guest@127.0.0.1:5685/%2f: to sse.ingress, which any node routes.")
    var amqpURL: String?

    @Option(name: .customLong("amqp-node"), help: "With --amqp-url: publish to sse.direct with this node id as routing key (delivered live by that node).")
    var amqpNode: String?

    @Option(name: .customLong("publish-connections"), help: "HTTP keep-alive connections, publishes pipelined round robin; 0: a new connection per publish. (default: broadcast 0, unicast 8)")
    var publishConnections: Int?

    @Option(name: .customLong("max-in-flight"), help: "Publishes awaiting an answer at most; one due beyond this is skipped and counted.")
    var maxInFlight: Int = 10_000

    @Option(name: .customLong("publish-timeout"), help: "Seconds a publish may wait for its answer.")
    var publishTimeout: Int = 10

    @Option(name: .customLong("publish-threads"), help: "Event loops of the HTTP publisher (its own, not the subscribers').")
    var publishThreads: Int = 1

    func validate() throws {
        switch (publishURL, amqpURL) {
        case (nil, nil): throw ValidationError("give --publish-url (HTTP) or --amqp-url (RabbitMQ)")
        case (.some, .some): throw ValidationError("give either --publish-url or --amqp-url, not both")
        case (.some(let url), nil): _ = try HTTPEndpoint(url: url)
        case (nil, .some): break
        }
        if amqpNode != nil, amqpURL == nil { throw ValidationError("--amqp-node needs --amqp-url") }
        if let publishConnections, publishConnections < 0 { throw ValidationError("--publish-connections must be 0 or more") }
        if publishConnections != nil, amqpURL != nil { throw ValidationError("--publish-connections is for HTTP publishing") }
        guard maxInFlight > 0 else { throw ValidationError("--max-in-flight must be positive") }
        guard publishTimeout > 0 else { throw ValidationError("--publish-timeout must be positive") }
        guard publishThreads > 0 else { throw ValidationError("--publish-threads must be positive") }
    }

    var viaAMQP: Bool { amqpURL != nil }

    /// Connects the transport; `defaultConnections` is the scenario's keep-alive default for HTTP.
    func makeTransport(format: PublishFormat, defaultConnections: Int) async throws -> any PublishTransport {
        if let amqpURL {
            return try await AMQPTransport.connect(url: amqpURL, node: amqpNode)
        }
        let url = publishURL!
        let connections = publishConnections ?? defaultConnections
        let timeout = Duration.seconds(publishTimeout)
        if connections == 0 {
            return PerRequestHTTPTransport(url: url, contentType: format.contentType, timeout: timeout, threads: publishThreads)
        }
        return try await KeepAliveHTTPTransport.connect(
            url: url, contentType: format.contentType, connections: connections, threads: publishThreads, timeout: timeout
        )
    }
}
