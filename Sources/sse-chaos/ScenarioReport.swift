/// The outcome of one scenario: per-client verdicts, publisher totals, faults and checks.
struct ScenarioReport: Sendable, Encodable {
    struct Totals: Sendable, Encodable {
        var published = 0
        var lost = 0
        var duplicated = 0
        var outOfOrder = 0
        var resets = 0
        var unconfirmed = 0
        var clientsFailing = 0
    }

    var scenario: String
    var run: String
    var runDirectory: String
    var durationSeconds: Double
    var rate: Double
    var nodes: [Int]
    var users: Int
    /// Why the scenario could not be carried out (setup failed, a node would not restart), if so.
    var error: String?
    var timeline: [FaultTimeline.Entry] = []
    var publisher = PublishLedger.Summary()
    var checks: [ScenarioCheck] = []
    var clients: [ClientVerdict] = []

    var totals: Totals {
        var totals = Totals(published: publisher.accepted)
        for client in clients {
            totals.lost += client.lost
            totals.duplicated += client.duplicated
            totals.outOfOrder += client.outOfOrder
            totals.resets += client.resets
            totals.unconfirmed += client.unconfirmed
            if !client.passed { totals.clientsFailing += 1 }
        }
        return totals
    }

    var passed: Bool {
        error == nil && !clients.isEmpty && clients.allSatisfy(\.passed) && checks.allSatisfy(\.passed)
    }

    private enum CodingKeys: String, CodingKey {
        case scenario, run, runDirectory, durationSeconds, rate, nodes, users, error, timeline, publisher, checks, clients
        case passed, totals
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scenario, forKey: .scenario)
        try container.encode(passed, forKey: .passed)
        try container.encode(totals, forKey: .totals)
        try container.encode(run, forKey: .run)
        try container.encode(runDirectory, forKey: .runDirectory)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(rate, forKey: .rate)
        try container.encode(nodes, forKey: .nodes)
        try container.encode(users, forKey: .users)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encode(timeline, forKey: .timeline)
        try container.encode(publisher, forKey: .publisher)
        try container.encode(checks, forKey: .checks)
        try container.encode(clients, forKey: .clients)
    }
}
