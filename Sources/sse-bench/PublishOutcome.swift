/// What the publisher sent and how the server answered.
struct PublishOutcome: Sendable {
    var attempted = 0
    /// Answered with a 2xx status.
    var accepted = 0
    var failed = 0
    var firstError: String?
    /// The latest a publish started after its scheduled time, in seconds.
    var maximumStartLag = 0.0
    /// From the first scheduled publish to the last answer.
    var seconds = 0.0
}
