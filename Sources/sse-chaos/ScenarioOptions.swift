import ArgumentParser

/// The options every scenario takes. Defaults are the short CI variant; `scripts/chaos.sh --soak`
/// passes longer durations.
struct ScenarioOptions: ParsableArguments {
    @Option(help: "Seconds during which events are published; faults happen inside this window.")
    var duration: Double = 30

    @Option(help: "Events per second, over all users (round-robin).")
    var rate: Double = 40

    @Option(help: "sse-fanout nodes.")
    var nodes: Int = 3

    @Option(help: "Users chaos-0 ... chaos-<users-1>; every second one has two clients.")
    var users: Int = 20

    @Option(name: .customLong("base-port"), help: "HTTP port of the first node; the others follow.")
    var basePort: Int = 18291

    @Option(name: .customLong("redis-port"), help: "Port of the suite's own redis-server.")
    var redisPort: Int = 6392

    @Option(name: .customLong("amqp-port"), help: "AMQP port of the suite's own rabbitmq-server (its Erlang distribution port is this + 20000).")
    var amqpPort: Int = 5684

    @Option(name: .customLong("services-dir"), help: "Data, logs and pid files of the suite's redis-server and rabbitmq-server (emptied before each scenario).")
    var servicesDirectory = "/tmp/sse-chaos-services"

    @Option(name: .customLong("run-dir"), help: "Where each scenario's node logs and the JSON summary go (default: <repository>/.run/chaos).")
    var runDirectory: String?

    @Option(help: "The sse-fanout binary (default: `swift build --show-bin-path`/sse-fanout).")
    var binary: String?

    @Option(help: "The sse-fanout repository, for scripts/services.sh (default: found from the current directory).")
    var repository: String?

    @Option(help: "Seconds RabbitMQ or Redis stays down before it is started again; the default outlasts a node's 10 s lease, so registry entries expire meanwhile (rabbitmq-restart, redis-restart).")
    var outage: Double = 12

    @Option(name: .customLong("stall-padding"), help: "Filler bytes in each event of the stalled client's user, so its socket buffers fill within the scenario (stalled-client).")
    var stallPadding: Int = 60000

    @Option(name: .customLong("stall-weight"), help: "Round-robin turns the stalled client's user gets for every one of another user's (stalled-client).")
    var stallWeight: Int = 10

    @Option(name: .customLong("max-memory-growth"), help: "MiB the stalled client's node may grow while the client does not read (stalled-client).")
    var maxMemoryGrowth: Double = 64

    @Option(name: .customLong("max-latency-increase"), help: "Milliseconds other clients' p99 latency may rise while a client is stalled (stalled-client).")
    var maxLatencyIncrease: Double = 100

    @Option(name: .customLong("settle-timeout"), help: "Seconds to wait, after publishing, for clients to catch up.")
    var settleTimeout: Double = 15

    @Option(name: .customLong("publish-give-up"), help: "Seconds the publisher keeps retrying one event before it gives up on it.")
    var publishGiveUp: Double = 60

    @Option(name: .customLong("default-retry"), help: "Milliseconds a client waits before reconnecting when the server sent no retry: hint.")
    var defaultRetry: Int = 3000

    @Option(help: "Also write the JSON summary (with every client) to this file.")
    var json: String?

    @Flag(name: .customLong("report-only"), help: "Print the results but exit 0 even when events were lost, duplicated or reordered.")
    var reportOnly = false

    @Flag(help: "Log every step, not only faults and results.")
    var verbose = false

    func validate() throws {
        guard duration >= 6 else { throw ValidationError("--duration must be at least 6 seconds") }
        guard rate > 0, rate <= 5000 else { throw ValidationError("--rate must be in (0, 5000]") }
        guard (1...20).contains(nodes) else { throw ValidationError("--nodes must be 1...20") }
        guard users >= 2 else { throw ValidationError("--users must be at least 2") }
        guard (1024...65000).contains(basePort) else { throw ValidationError("--base-port must be 1024...65000") }
        guard stallWeight >= 1 else { throw ValidationError("--stall-weight must be at least 1") }
        guard stallPadding >= 0, stallPadding <= 60_000 else {
            throw ValidationError("--stall-padding must be 0...60000 (a publish body is at most 64 KiB)")
        }
    }
}
