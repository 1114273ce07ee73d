import Foundation

/// The unicast scenario's figures.
struct UnicastResult: BenchResult {
    struct Settings: Encodable {
        var scenario = "unicast"
        var connections: Int
        var opened: Int
        /// The node ids the streams' `connected` events named.
        var subscriberNodes: [String]
        var target: UnicastTargetKind
        var rate: Double
        var durationSeconds: Double
        var payloadBytes: Int
        var eventsPerPublish: Int
    }

    var settings: Settings
    var figures: DeliveryFigures

    func encode(to encoder: any Encoder) throws {
        try MergedEncoding(first: settings, second: figures).encode(to: encoder)
    }

    var table: String {
        var table = TextTable(title: "unicast")
        table.add("streams", "\(settings.opened) of \(settings.connections) open, on node \(settings.subscriberNodes.joined(separator: ", "))")
        table.add("rate", "\(settings.rate) messages/s for \(settings.durationSeconds) s, each to one stream's \(settings.target.rawValue), "
            + "\(settings.payloadBytes)-byte payloads"
            + (settings.eventsPerPublish > 1 ? ", \(settings.eventsPerPublish) events per publish (JSON array)" : ""))
        figures.addRows(to: &table)
        return table.text
    }
}
