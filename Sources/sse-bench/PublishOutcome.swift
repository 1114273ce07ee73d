/// What the publisher sent and how the server answered.
struct PublishOutcome: Codable, Sendable {
    var attempted = 0
    /// Answered with a 2xx status, or confirmed by the broker.
    var accepted = 0
    var failed = 0
    /// Due while `maxInFlight` publishes were unanswered, so not sent (the server is behind).
    var skipped = 0
    var firstError: String?
    /// The latest a publish started after its scheduled time, in seconds.
    var maximumStartLag = 0.0
    /// From the first scheduled publish to the last answer.
    var seconds = 0.0
    /// `NIODeadline.uptimeNanoseconds` of the first publish.
    var startedAt: UInt64 = 0
}
