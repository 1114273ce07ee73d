import Foundation

/// Renders reports as text tables for the terminal.
enum ReportTable {
    static func render(_ report: ScenarioReport) -> String {
        let totals = report.totals
        var lines: [String] = []
        let verdict = report.passed ? "PASS" : "FAIL"
        lines.append(
            "== \(report.scenario): \(verdict) — lost \(totals.lost), duplicated \(totals.duplicated), "
                + "out of order \(totals.outOfOrder), resets \(totals.resets) "
                + "(\(totals.clientsFailing) of \(report.clients.count) clients failing)"
        )
        lines.append(
            "   run \(report.run): \(format(report.durationSeconds)) s at \(format(report.rate)) events/s, "
                + "nodes \(report.nodes.map(String.init).joined(separator: ",")), \(report.users) users; logs in \(report.runDirectory)"
        )
        if let error = report.error {
            lines.append("   ERROR: \(error)")
        }
        if !report.timeline.isEmpty {
            lines.append("   timeline (seconds since publishing started):")
            for entry in report.timeline {
                lines.append("     t=\(String(format: "%5.1f", entry.at))  \(entry.what)")
            }
        }
        lines.append("   publisher: \(publisherLine(report.publisher))")
        if !report.clients.isEmpty {
            lines.append("")
            lines.append(contentsOf: clientTable(report.clients).map { "   " + $0 })
        }
        if !report.checks.isEmpty {
            lines.append("")
            lines.append("   checks:")
            for check in report.checks {
                lines.append("     [\(check.passed ? "ok" : "FAIL")] \(check.name): \(check.detail)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One line per scenario, for the end of `all`.
    static func renderSummary(_ reports: [ScenarioReport]) -> String {
        var rows = [["scenario", "result", "published", "lost", "duplicated", "out-of-order", "resets", "failing clients", "failed checks"]]
        for report in reports {
            let totals = report.totals
            rows.append([
                report.scenario, report.error == nil ? (report.passed ? "PASS" : "FAIL") : "ERROR",
                String(totals.published), String(totals.lost), String(totals.duplicated), String(totals.outOfOrder),
                String(totals.resets), "\(totals.clientsFailing)/\(report.clients.count)",
                String(report.checks.filter { !$0.passed }.count),
            ])
        }
        return align(rows, leftColumns: 2).joined(separator: "\n")
    }

    private static func clientTable(_ clients: [ClientVerdict]) -> [String] {
        var rows = [["client", "published", "received", "distinct", "lost", "dup", "ooo", "resets", "unconf", "conns", "p50 ms", "p99 ms", ""]]
        for client in clients {
            rows.append([
                client.client, String(client.published), String(client.received), String(client.distinct),
                String(client.lost), String(client.duplicated), String(client.outOfOrder), String(client.resets),
                String(client.unconfirmed), String(client.connections),
                client.latency.map { format($0.p50) } ?? "-", client.latency.map { format($0.p99) } ?? "-",
                client.passed ? "" : "<-",
            ])
        }
        return align(rows, leftColumns: 1)
    }

    private static func publisherLine(_ summary: PublishLedger.Summary) -> String {
        var parts = ["\(summary.accepted) accepted", "\(summary.attempts) attempts"]
        if !summary.failedAttempts.isEmpty {
            let causes = summary.failedAttempts.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }
            parts.append("failed and retried: " + causes.joined(separator: ", "))
        }
        parts.append("\(summary.abandoned) given up")
        parts.append("\(summary.acceptedForNoNode) answered nodes:0")
        if summary.acceptedAsStored > 0 { parts.append("\(summary.acceptedAsStored) stored") }
        var line = parts.joined(separator: "; ")
        if !summary.abandonReasons.isEmpty { line += " (e.g. \(summary.abandonReasons[0]))" }
        return line
    }

    /// Pads columns to equal width: the first `leftColumns` left-aligned, the rest right-aligned.
    private static func align(_ rows: [[String]], leftColumns: Int) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column < leftColumns ? cell + padding : padding + cell
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    static func format(_ value: Double) -> String {
        String(format: value < 10 ? "%.1f" : "%.0f", value)
    }
}
