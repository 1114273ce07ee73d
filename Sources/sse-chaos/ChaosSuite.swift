import ArgumentParser
import Foundation
import Logging

/// Runs scenarios one after another, prints a table for each and a JSON summary, and fails the
/// process unless every scenario passed (or `--report-only`).
enum ChaosSuite {
    /// The short form printed after the tables and written next to the full report.
    struct Summary: Encodable {
        struct Entry: Encodable {
            var scenario: String
            var passed: Bool
            var error: String?
            var totals: ScenarioReport.Totals
            var failedChecks: [String]
        }

        var passed: Bool
        var scenarios: [Entry]
    }

    static func run(_ scenarios: [any ChaosScenario.Type], options: ScenarioOptions) async throws {
        var logger = Logger(label: "sse-chaos") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = options.verbose ? .debug : .info
        let settings = try RunSettings(options)
        InterruptHandler.install()
        logger.info("node binary: \(settings.binary)")

        var reports: [ScenarioReport] = []
        for scenario in scenarios {
            logger.info("== \(scenario.name): \(scenario.abstract)")
            let report = await ScenarioRunner(settings: settings, logger: logger).run(scenario.init())
            emit(ReportTable.render(report) + "\n")
            reports.append(report)
        }
        if reports.count > 1 {
            emit(ReportTable.renderSummary(reports) + "\n")
        }

        let summary = Summary(
            passed: reports.allSatisfy(\.passed),
            scenarios: reports.map {
                Summary.Entry(
                    scenario: $0.scenario, passed: $0.passed, error: $0.error, totals: $0.totals,
                    failedChecks: $0.checks.filter { !$0.passed }.map(\.name)
                )
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        emit("SUMMARY " + String(decoding: try encoder.encode(summary), as: UTF8.self))

        // The full report, with every client, for whoever wants to dig in.
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let full = try encoder.encode(reports)
        for path in [settings.runRoot + "/last-report.json", settings.jsonPath].compactMap({ $0 }) {
            do {
                try full.write(to: URL(fileURLWithPath: path))
                logger.info("full report: \(path)")
            } catch {
                logger.error("could not write \(path): \(error)")
            }
        }

        if !summary.passed && !settings.reportOnly {
            throw ExitCode(1)
        }
    }

    /// Writes a line to standard output at once (unbuffered), so results and log lines interleave in order.
    private static func emit(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
