import ArgumentParser
import Foundation
import Logging
import RabbitMQ
import SSEClient
import SSEFanout

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publishes one event, over HTTP to a node or straight to RabbitMQ.",
        discussion: """
            Give the publish JSON as an argument, or build it from --type/--id/--event/--data.
            With --http it is POSTed to that node's /publish. Otherwise it goes to RabbitMQ: to the sse.ingress \
            exchange (any node routes it), or with --node to sse.direct with that node id as routing key.
            """
    )

    @Argument(help: "The publish JSON, e.g. '{\"target\":{\"type\":\"user\",\"id\":\"alice\"},\"data\":\"hi\"}'.")
    var json: String?

    @Option(name: .customLong("type"), help: "Target type: connection, user, session, client, tenant, channel or broadcast.")
    var targetType: String?

    @Option(name: .customLong("id"), help: "Target id (not for broadcast; for tenant: the tenant; for client: the client id).")
    var targetID: String?

    @Option(name: .customLong("tenant"), help: "The target's tenant (user, session, client and channel targets).")
    var targetTenant: String?

    @Option(name: .customLong("user"), help: "The device's user, for --type client.")
    var targetUser: String?

    @Option(help: "Event name.")
    var event: String?

    @Option(help: "Event data (sent as a string).")
    var data: String?

    @Option(name: .customLong("event-id"), help: "Event id (idempotency key); assigned by the node if absent.")
    var eventID: String?

    @Option(help: "POST to this node, e.g. http://127.0.0.1:8081.")
    var http: String?

    @Option(name: .customLong("api-key"), help: "API key for --http (default: $SSE_FANOUT_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("amqp-url"), help: "RabbitMQ URL (default: SSE_FANOUT_AMQP_URL, else amqp://guest:guest@127.0.0.1:5672/%2f).")
    var amqpURL: String?

    @Option(help: "Publish to sse.direct with this node id as routing key, instead of sse.ingress.")
    var node: String?

    func run() async throws {
        let body = try makeBody()
        // Refuse what a node would refuse, before it leaves this machine.
        do {
            _ = try PublicationCodec.decode(body)
        } catch {
            throw ValidationError("invalid publish JSON: \(error.message)")
        }
        if let http {
            let base = http.hasSuffix("/") ? String(http.dropLast()) : http
            var headers = [("Content-Type", "application/json")]
            if let key = apiKey ?? ProcessInfo.processInfo.environment["SSE_FANOUT_API_KEY"], !key.isEmpty {
                headers.append(("X-API-Key", key))
            }
            let response = try await HTTPClient().request("POST", base + "/publish", headers: headers, body: body)
            print(response.bodyString)
            guard (200..<300).contains(response.status) else { throw ExitCode(1) }
            return
        }
        let url = amqpURL ?? ProcessInfo.processInfo.environment["SSE_FANOUT_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2f"
        var configuration = try AMQPConfiguration(url: url)
        configuration.connectionName = "sse-fanout publish"
        var logger = Logger(label: "sse-fanout.publish")
        logger.logLevel = .warning
        let publisher = AMQPPublisher(configuration: configuration, topology: BrokerTopology.shared, logger: logger)
        publisher.start()
        let exchange = node == nil ? BrokerTopology.ingressExchange : BrokerTopology.directExchange
        let outcome: AMQPPublishOutcome
        do {
            try await publisher.waitUntilConnected(timeout: .seconds(10))
            outcome = try await publisher.publish(
                exchange: exchange, routingKey: node ?? "", body: body,
                properties: AMQPMessageProperties(contentType: "application/json"), mandatory: node != nil
            )
        } catch {
            await publisher.shutdown()
            throw error
        }
        await publisher.shutdown()
        switch outcome {
        case .confirmed:
            print("published to \(exchange)\(node.map { " (node \($0))" } ?? "")")
        case .returned:
            print("unroutable: no queue for node '\(node ?? "")'")
            throw ExitCode(1)
        }
    }

    private func makeBody() throws -> [UInt8] {
        if let json { return Array(json.utf8) }
        guard let targetType else {
            throw ValidationError("give the publish JSON, or at least --type")
        }
        // Built as JSON and read back by the codec: one set of rules for what a target is.
        var target: [String: String] = ["type": targetType]
        target["id"] = targetID
        target["tenant"] = targetTenant
        target["user"] = targetUser
        let body = try JSONSerialization.data(withJSONObject: ["target": target, "data": data ?? ""])
        var publication: Publication
        do {
            publication = try PublicationCodec.decode(Array(body))
        } catch {
            throw ValidationError(error.message)
        }
        publication.event = event
        publication.id = eventID
        return PublicationCodec.encode(publication)
    }
}
