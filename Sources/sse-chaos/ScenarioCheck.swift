/// A pass/fail condition of a scenario besides the per-client delivery counts (e.g. "the node's memory
/// stayed bounded").
struct ScenarioCheck: Sendable, Encodable {
    var name: String
    var passed: Bool
    var detail: String
}
