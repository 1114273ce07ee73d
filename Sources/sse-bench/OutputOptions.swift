import ArgumentParser
import Foundation

/// How a scenario reports: progress on standard error, then a table and a `RESULT {json}` line on
/// standard output, and the same JSON in a file with `--json`.
struct OutputOptions: ParsableArguments {
    @Option(help: "Also write the full result as JSON to this file.")
    var json: String?

    @Option(help: "A name for this measurement, kept in the result (charts label their bars with it).")
    var label: String?

    @Flag(name: .customLong("no-progress"), help: "No progress line on standard error each second.")
    var noProgress = false

    var progress: Bool { !noProgress }

    /// Prints the table and the `RESULT` line, and writes the JSON file.
    func emit(_ result: some BenchResult) throws {
        print(result.table)
        let labelled = MergedEncoding(first: result, second: ResultLabel(label: label))
        ResultLine.print(labelled)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            do {
                try encoder.encode(labelled).write(to: URL(fileURLWithPath: json))
            } catch {
                throw ValidationError("cannot write \(json): \(error.localizedDescription)")
            }
        }
    }
}
