import ArgumentParser

/// `sse-bench calibrate`: what this tool can read with room to spare. Broadcasts to N streams of a server
/// that costs next to nothing per delivery (scripts/bench/floor-server.c, or nginx+nchan at a low rate)
/// at rising rates, and prints for each what the tool spent per delivery and what share of a core it
/// used. The highest rate whose result is valid, with every delivery in, is what the tool reads with
/// headroom: a measurement of a server above it says more about the tool than about the server.
struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measures this tool's own CPU per delivery and its headroom, broadcast rate by rate.",
        discussion: """
            Takes the broadcast options (the server takes raw payloads, as nchan does: --nchan), and --rates. \
            Each rate is one broadcast measurement on fresh streams; the table after them says up to which \
            rate the tool kept under --max-client-share of a core with every delivery read.
            """
    )

    @OptionGroup var broadcast: BroadcastCommand

    @Option(parsing: .upToNextOption, help: "Broadcasts per second, each measured in turn.")
    var rates: [Double] = [5, 10, 20, 40]

    func validate() throws {
        guard !rates.isEmpty, rates.allSatisfy({ $0 > 0 }) else { throw ValidationError("--rates must be positive") }
    }

    func run() async throws {
        var table = TextTable(title: "calibration: \(broadcast.subscribers.connections) streams, reading with \(broadcast.reader.rawValue)")
        var withHeadroom: Double?
        for rate in rates {
            let result = try await broadcast.measure(rate: rate, progress: broadcast.output.progress)
            try broadcast.output.emit(result)
            let figures = result.figures
            let complete = figures.lost == 0 && figures.streamsClosed == 0
            if figures.valid && complete { withHeadroom = figures.deliveriesPerSecond }
            table.add(
                "\(rate.formatted())/s",
                String(format: "%.0f deliveries/s, %.2f µs each, %.0f %% of a core", figures.deliveriesPerSecond,
                    figures.client.microsecondsPerDelivery, figures.client.coreShare * 100)
                    + (figures.client.readerCoreShare.map { String(format: " (reader %.0f %%)", $0 * 100) } ?? "")
                    + String(format: ", p50 %.1f ms (half the serial write %.1f)", figures.latencyMilliseconds.p50, figures.halfSerialWriteMilliseconds)
                    + (complete ? "" : ", \(figures.lost) lost") + (figures.valid ? "" : ", INVALID")
            )
        }
        table.add("with headroom", withHeadroom.map { String(format: "reads %.0f deliveries/s within its limits", $0) } ?? "no rate was within its limits")
        print(table.text)
    }
}
