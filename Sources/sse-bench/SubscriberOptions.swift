import ArgumentParser

/// Options shared by every scenario that opens subscriber streams.
struct SubscriberOptions: ParsableArguments {
    @Option(help: "Stream URL, e.g. http://127.0.0.1:8080/events or http://127.0.0.1:18091/sub/bench.")
    var url: String

    @Option(help: "Streams to open.")
    var connections: Int

    @Option(help: "Streams opened at once while ramping up; the next batch starts when this one has its first bytes.")
    var batch: Int = 500

    @Option(name: .customLong("client-threads"), help: "Event loops of this tool.")
    var clientThreads: Int = 1

    @Option(name: .customLong("open-timeout"), help: "Seconds a batch may take to connect and get its first bytes.")
    var openTimeout: Int = 30

    @Option(help: "Seconds to wait after the last stream opened, so the server finishes setting them up.")
    var settle: Double = 2

    func validate() throws {
        guard connections > 0 else { throw ValidationError("--connections must be positive") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard clientThreads > 0 else { throw ValidationError("--client-threads must be positive") }
        guard openTimeout > 0 else { throw ValidationError("--open-timeout must be positive") }
        guard settle >= 0 else { throw ValidationError("--settle must be 0 or more") }
        _ = try StreamEndpoint(url: url)
    }
}
