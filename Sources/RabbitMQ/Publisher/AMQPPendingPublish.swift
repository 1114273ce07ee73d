import NIOCore

/// A message already handed to an `AMQPPublisher` by `submit`. Await `outcome` for the broker's
/// confirm (several tasks may), or drop it: the message goes out either way.
///
/// The publisher's thread completes it on the event loop the caller submitted from (or one of the
/// publisher's group when the caller was on none), so a caller on a loop hears back there.
public struct AMQPPendingPublish: Sendable {
    private let promise: EventLoopPromise<AMQPPublishOutcome>

    init(on eventLoop: any EventLoop) {
        promise = eventLoop.makePromise()
    }

    /// Completed with the outcome; failed with an `AMQPError`.
    public var future: EventLoopFuture<AMQPPublishOutcome> { promise.futureResult }

    /// `.confirmed`, or `.returned` for an unroutable mandatory message; throws as `publish` does.
    public var outcome: AMQPPublishOutcome {
        get async throws {
            try await future.get()
        }
    }

    /// Calls `callback` with the outcome once it is known, on the future's loop (keep it short): at
    /// once when known already and called there. For callers that need no task to wait.
    public func whenComplete(_ callback: @escaping @Sendable (Result<AMQPPublishOutcome, AMQPError>) -> Void) {
        future.whenComplete { result in
            callback(result.mapError { $0 as? AMQPError ?? .connectionFailed("\($0)") })
        }
    }

    /// Only the first call counts.
    func complete(_ result: Result<AMQPPublishOutcome, AMQPError>) {
        promise.completeWith(result.mapError { $0 })
    }
}
