import Foundation

/// The idle scenario's figures: the server's resident memory per open stream.
struct IdleResult: BenchResult {
    var scenario = "idle"
    var connections: Int
    var opened: Int
    var failed: Int
    var firstError: String?
    var rampSeconds: Double
    var serverRSSBeforeKiB: Int
    var serverRSSAfterKiB: Int
    /// (after − before) / opened.
    var rssPerConnectionKiB: Double
    var clientRSSKiB: Int
    /// Distinct users the streams belong to (nil: anonymous streams).
    var users: Int?
    /// The tokens the streams sent (nil: none).
    var tokens: TokenSummary?

    var table: String {
        var table = TextTable(title: "idle")
        table.add("streams", "\(opened) of \(connections) open (\(failed) failed) in \(String(format: "%.1f", rampSeconds)) s"
            + (firstError.map { "; first error: \($0)" } ?? ""))
        table.add("server RSS", "\(serverRSSBeforeKiB) KiB before, \(serverRSSAfterKiB) KiB after")
        table.add("per stream", String(format: "%.2f KiB", rssPerConnectionKiB))
        table.add("users", users.map { "\($0) named users" } ?? "none (anonymous streams)")
        table.add("tokens", tokens?.text ?? "none")
        table.add("client RSS", "\(clientRSSKiB) KiB")
        return table.text
    }
}
