import ArgumentParser
import NIOCore

/// `sse-bench broadcast`: deliveries per server CPU-second and latency of broadcasts to N streams.
struct BroadcastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "Opens N streams, publishes broadcasts open-loop and counts deliveries, server CPU and latency.",
        discussion: """
            After the streams are open, publishes --rate broadcasts per second for --duration seconds, each \
            a --size-byte payload starting with its sequence number and send time, at fixed times (not waiting \
            for answers): over HTTP (--publish-url; by default a new connection per publish) or straight to \
            RabbitMQ (--amqp-url). Then waits until every delivery arrived, or none did for --drain seconds. \
            The server's CPU time (utime + stime of /proc/<pid>/stat) is read before the first publish and \
            after that wait.
            """
    )

    @OptionGroup var subscribers: SubscriberOptions
    @OptionGroup var publishing: PublisherOptions
    @OptionGroup var servers: ServerOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var limits: ClientLimits

    @Option(help: "What reads the streams: epoll (one thread of its own, plain read(2)) or nio (--client-threads event loops).")
    var reader: ReaderKind = .epoll

    @Option(help: "Broadcasts per second.")
    var rate: Double = 10

    @Option(help: "Seconds of publishing.")
    var duration: Double = 20

    @Option(help: "Payload bytes per event (the event's data).")
    var size: Int = 64

    @Option(help: "Seconds without a new delivery after which the wait for the last deliveries ends.")
    var drain: Double = 3

    @Flag(help: "The server is nginx+nchan: POST the raw payload instead of sse-fanout's publish JSON.")
    var nchan = false

    func validate() throws {
        try PublishLoad.validate(rate: rate, duration: duration, size: size, drain: drain)
        if nchan, publishing.viaAMQP { throw ValidationError("--nchan publishes over HTTP: give --publish-url") }
    }

    func run() async throws {
        try output.emit(try await measure(rate: rate, progress: output.progress))
    }

    /// One broadcast measurement at `rate` with this command's settings (`sse-bench calibrate` runs several).
    func measure(rate: Double, progress showProgress: Bool) async throws -> BroadcastResult {
        let meter = servers.meter()
        let counters = LiveCounters()
        let endpoint = try StreamEndpoint(url: subscribers.url)
        let epoll = reader == .epoll ? try EpollReader(endpoint: endpoint, counters: counters) : nil
        let nio = reader == .nio ? SubscriberPool(endpoint: endpoint, threads: subscribers.clientThreads, counters: counters) : nil
        let pool: any DeliverySource = epoll ?? nio!
        let format: PublishFormat = nchan ? .nchan : .sseFanout
        let transport = try await publishing.makeTransport(format: format, defaultConnections: 0)
        let connections = subscribers.connections
        let progress = ProgressReporter.deliveries(
            enabled: showProgress, counters: counters, connections: connections, source: pool
        )
        let ramp = if let epoll {
            await epoll.open(count: connections, batch: subscribers.batch, timeout: subscribers.openTimeout)
        } else {
            await nio!.open(count: connections, batch: subscribers.batch, timeout: subscribers.openTimeout)
        }
        try await Task.sleep(for: .seconds(subscribers.settle))

        let size = size
        let publisher = OpenLoopPublisher(
            transport: transport, rate: rate, count: Int((rate * duration).rounded()), maxInFlight: publishing.maxInFlight,
            counters: counters
        ) { sequence, sentAt in
            format.body(payload: BenchPayload.make(sequence: sequence, sentAt: sentAt, size: size), target: .broadcast)
        }
        var measurement = DeliveryMeasurement(
            pool: pool, publisher: publisher, transportDescription: transport.description,
            deliveriesPerPublish: ramp.opened, drain: drain
        )
        measurement.maximumClientShare = limits.coreShare
        measurement.maximumStartLag = limits.startLag
        if let epoll { measurement.readerCPUSeconds = { epoll.threadCPUSeconds } }
        let figures = try await measurement.run(meter: meter)
        progress.stop()
        await transport.shutdown()
        await pool.shutdown()
        return BroadcastResult(
            settings: .init(connections: connections, opened: ramp.opened, rate: rate, durationSeconds: duration, payloadBytes: size),
            figures: figures
        )
    }
}
