import ArgumentParser
import Foundation
import NIOCore

/// `sse-bench unicast`: messages per second and publish-to-receive latency of events addressed to one
/// stream each, e.g. subscribers on one node and publishes to another node or to RabbitMQ (cross-node).
struct UnicastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unicast",
        abstract: "Opens N streams, each its own user, publishes to them one at a time open-loop and counts messages per second and latency.",
        discussion: """
            Each stream is user <user-prefix><i> (added to --url as user=…) and counts as open at sse-fanout's \
            `connected` event, which the node sends once the stream is registered in Redis. Then publishes \
            --rate events per second for --duration seconds, event i to stream i mod N, addressed to its user or \
            (--target connection) its connection id: over HTTP (--publish-url, keep-alive connections, pipelined) \
            or straight to RabbitMQ (--amqp-url: sse.ingress, or sse.direct with --amqp-node). \
            For cross-node figures, open the streams on one node and publish to another. \
            A fixed moderate rate measures latency; a rate above what the nodes can take (with --max-in-flight \
            bounding the backlog) measures the most messages per second they deliver.
            """
    )

    @OptionGroup var subscribers: SubscriberOptions
    @OptionGroup var publishing: PublisherOptions
    @OptionGroup var servers: ServerOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Messages per second (each to one stream).")
    var rate: Double = 1000

    @Option(help: "Seconds of publishing.")
    var duration: Double = 10

    @Option(help: "Payload bytes per event (the event's data).")
    var size: Int = 64

    @Option(help: "Address each event to the stream's user or to its connection id.")
    var target: UnicastTargetKind = .user

    @Option(name: .customLong("user-prefix"), help: "Stream i is user <prefix><i> (default: bench-<random>-, new users each run).")
    var userPrefix: String?

    @Option(help: "Seconds without a new delivery after which the wait for the last deliveries ends.")
    var drain: Double = 3

    @Option(
        name: .customLong("events-per-publish"),
        help: "Events each publish carries, as a JSON array (one request or AMQP message); --rate still counts events.")
    var eventsPerPublish: Int = 1

    func validate() throws {
        try PublishLoad.validate(rate: rate, duration: duration, size: size, drain: drain)
        guard (1...1000).contains(eventsPerPublish) else { throw ValidationError("--events-per-publish must be 1…1000") }
        if let userPrefix, userPrefix.isEmpty || !userPrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            throw ValidationError("--user-prefix may hold only ASCII letters, digits, - and _")
        }
    }

    func run() async throws {
        let meter = servers.meter()
        let counters = LiveCounters()
        let prefix = userPrefix ?? "bench-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))-"
        let endpoint = try StreamEndpoint(url: subscribers.url, userPrefix: prefix)
        let pool = SubscriberPool(
            endpoint: endpoint, threads: subscribers.clientThreads, awaitConnected: true, readGreeting: true, counters: counters
        )
        let transport = try await publishing.makeTransport(format: .sseFanout, defaultConnections: 8)
        let connections = subscribers.connections
        let progress = ProgressReporter.deliveries(
            enabled: output.progress, counters: counters, connections: connections, source: pool
        )
        let ramp = await pool.open(count: connections, batch: subscribers.batch, timeout: subscribers.openTimeout)
        guard ramp.opened > 0 else {
            progress.stop()
            await transport.shutdown()
            await pool.shutdown()
            throw ValidationError("no stream opened: \(ramp.firstError ?? "?")")
        }
        try await Task.sleep(for: .seconds(subscribers.settle))

        let targets: [PublishTarget] = pool.streams.map { stream in
            switch target {
            case .user: .user(endpoint.user(index: stream.index)!)
            case .connection: .connection(stream.greeting!.connectionId)
            }
        }
        let nodes = Set(pool.streams.compactMap { $0.greeting?.nodeId }).sorted()
        let size = size
        let perPublish = eventsPerPublish
        let publisher = OpenLoopPublisher(
            transport: transport, rate: rate / Double(perPublish), count: Int((rate * duration / Double(perPublish)).rounded()),
            maxInFlight: publishing.maxInFlight, counters: counters
        ) { publish, sentAt in
            let bodies = (publish * perPublish..<(publish + 1) * perPublish).map { sequence in
                PublishFormat.sseFanout.body(
                    payload: BenchPayload.make(sequence: sequence, sentAt: sentAt, size: size), target: targets[sequence % targets.count]
                )
            }
            return perPublish == 1 ? bodies[0] : Array("[".utf8) + Array(bodies.joined(separator: Array(",".utf8))) + Array("]".utf8)
        }
        let measurement = DeliveryMeasurement(
            pool: pool, publisher: publisher, transportDescription: transport.description, deliveriesPerPublish: perPublish, drain: drain
        )
        let figures = try await measurement.run(meter: meter)
        progress.stop()
        await transport.shutdown()
        await pool.shutdown()
        try output.emit(UnicastResult(
            settings: .init(
                connections: connections, opened: ramp.opened, subscriberNodes: nodes, target: target, rate: rate,
                durationSeconds: duration, payloadBytes: size, eventsPerPublish: perPublish
            ),
            figures: figures
        ))
    }
}
