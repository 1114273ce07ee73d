import Foundation

/// The idle scenario's figures: the server's resident memory per open stream.
struct IdleResult: Codable {
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

    func print() {
        Swift.print("""
            idle: \(opened) of \(connections) streams open (\(failed) failed) in \(String(format: "%.1f", rampSeconds)) s\
            \(firstError.map { "; first error: \($0)" } ?? "")
              server RSS   \(serverRSSBeforeKiB) KiB before, \(serverRSSAfterKiB) KiB after
              per stream   \(String(format: "%.2f", rssPerConnectionKiB)) KiB
              client RSS   \(clientRSSKiB) KiB
            """)
        ResultLine.print(self)
    }
}
