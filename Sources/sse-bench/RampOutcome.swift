/// How opening a pool's streams went.
struct RampOutcome: Sendable {
    var opened = 0
    var failed = 0
    var firstError: String?
    /// From the first connect to the last stream's response head.
    var seconds = 0.0
}
