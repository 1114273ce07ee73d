import Foundation

/// The broadcast scenario's figures.
struct BroadcastResult: BenchResult {
    struct Settings: Encodable {
        var scenario = "broadcast"
        var connections: Int
        var opened: Int
        var rate: Double
        var durationSeconds: Double
        var payloadBytes: Int
    }

    var settings: Settings
    var figures: DeliveryFigures

    func encode(to encoder: any Encoder) throws {
        try MergedEncoding(first: settings, second: figures).encode(to: encoder)
    }

    var table: String {
        var table = TextTable(title: "broadcast")
        table.add("streams", "\(settings.opened) of \(settings.connections) open")
        table.add("rate", "\(settings.rate) broadcasts/s for \(settings.durationSeconds) s, \(settings.payloadBytes)-byte payloads")
        figures.addRows(to: &table)
        return table.text
    }
}
