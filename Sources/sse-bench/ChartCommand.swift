import ArgumentParser
import Foundation

/// `sse-bench chart`: an SVG of results (latency percentiles and throughput per measurement).
struct ChartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart",
        abstract: "Draws results as an SVG chart: latency p50/p99/p99.9/max and throughput per measurement.",
        discussion: """
            Reads results: JSON Lines (a script's results.jsonl, or RESULT lines without the RESULT prefix) \
            or a file --json wrote. Results with the same name (tag or scenario, then label or server) are \
            repeated runs: the chart shows their medians, in the order names first appear.
            """
    )

    @Option(help: "A results file; repeatable.")
    var input: [String]

    @Option(help: "The SVG file to write.")
    var output: String

    @Option(help: "The chart's title.")
    var title: String = "sse-bench results"

    @Option(help: "A line under the title (machine, commit, how the figures were made).")
    var subtitle: String?

    @Option(name: .customLong("max-other"), help: "Leave out measurements during which other processes used more CPU-seconds than this.")
    var maxOther: Double?

    @Option(help: "Only results of this scenario (idle, broadcast, unicast, churn); repeatable.")
    var scenario: [String] = []

    func validate() throws {
        guard !input.isEmpty else { throw ValidationError("give at least one --input") }
        guard output.hasSuffix(".svg") else { throw ValidationError("--output must name an .svg file") }
    }

    func run() throws {
        var records: [ChartRecord] = []
        for path in input {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read \(path)")
            }
            records += try Self.decode(data, path: path)
        }
        records = records.filter { record in
            (scenario.isEmpty || scenario.contains(record.scenario)) && record.valid != false
                && (maxOther.map { (record.otherCPUSeconds ?? 0) <= $0 } ?? true)
        }
        guard !records.isEmpty else { throw ValidationError("no results to draw in \(input.joined(separator: ", "))") }
        let svg = ChartRenderer(title: title, subtitle: subtitle, series: ChartSeries.group(records)).svg
        do {
            try Data(svg.utf8).write(to: URL(fileURLWithPath: output))
        } catch {
            throw ValidationError("cannot write \(output): \(error.localizedDescription)")
        }
        print("wrote \(output) (\(records.count) results)")
    }

    /// One JSON object (pretty-printed by --json), or one per line.
    private static func decode(_ data: Data, path: String) throws -> [ChartRecord] {
        let decoder = JSONDecoder()
        if let single = try? decoder.decode(ChartRecord.self, from: data) { return [single] }
        var records: [ChartRecord] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            var text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("RESULT ") { text.removeFirst("RESULT ".count) }
            guard !text.isEmpty else { continue }
            do {
                records.append(try decoder.decode(ChartRecord.self, from: Data(text.utf8)))
            } catch {
                throw ValidationError("\(path):\(number + 1): not a result: \(error)")
            }
        }
        return records
    }
}
