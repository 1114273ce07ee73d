import ClientRuntime

/// A message already handed to an `AMQPPublisher` by `submit`. Await `outcome` for the broker's
/// confirm (several tasks may), or drop it: the message goes out either way.
public struct AMQPPendingPublish: Sendable {
    private let confirm = OneShot<AMQPPublishOutcome, AMQPError>()

    init() {}

    /// `.confirmed`, or `.returned` for an unroutable mandatory message; throws as `publish` does.
    public var outcome: AMQPPublishOutcome {
        get async throws {
            try await confirm.value
        }
    }

    /// Calls `callback` with the outcome once it is known: at once if it is, else on the publisher's
    /// thread (keep it short). For callers that need no task to wait.
    public func whenComplete(_ callback: @escaping @Sendable (Result<AMQPPublishOutcome, AMQPError>) -> Void) {
        confirm.whenComplete(callback)
    }

    /// Only the first call counts.
    func complete(_ result: Result<AMQPPublishOutcome, AMQPError>) {
        confirm.complete(result)
    }
}
