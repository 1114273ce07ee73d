import NIOCore

/// A message already handed to an `AMQPPublisher` by `submit`. Await `outcome` for the broker's
/// confirm (several tasks may), or drop it: the message goes out either way.
///
/// The publisher's thread completes it on the event loop the caller submitted from (or one of the
/// publisher's group when the caller was on none), so a caller on a loop hears back there. A publish
/// refused at once (not connected) is settled from the start: its caller hears it without waiting for
/// any loop.
public struct AMQPPendingPublish: Sendable {
    /// Completed by the publisher's thread; nil when settled from the start.
    private let promise: EventLoopPromise<AMQPPublishOutcome>?
    /// The outcome known at `submit` (refused at once); nil when the promise brings it.
    private let settled: Result<AMQPPublishOutcome, AMQPError>?

    init(on eventLoop: any EventLoop) {
        promise = eventLoop.makePromise()
        settled = nil
    }

    init(settled result: Result<AMQPPublishOutcome, AMQPError>) {
        promise = nil
        settled = result
    }

    /// `.confirmed`, or `.returned` for an unroutable mandatory message; throws as `publish` does.
    public var outcome: AMQPPublishOutcome {
        get async throws {
            if let promise { try await promise.futureResult.get() } else { try settled!.get() }
        }
    }

    /// Calls `callback` with the outcome once it is known, on the loop it was submitted from (keep it
    /// short); at once when it was settled from the start. For callers that need no task to wait.
    public func whenComplete(_ callback: @escaping @Sendable (Result<AMQPPublishOutcome, AMQPError>) -> Void) {
        guard let promise else { return callback(settled!) }
        promise.futureResult.whenComplete { result in
            callback(result.mapError { $0 as? AMQPError ?? .connectionFailed("\($0)") })
        }
    }

    /// Only the first call counts.
    func complete(_ result: Result<AMQPPublishOutcome, AMQPError>) {
        promise?.completeWith(result.mapError { $0 })
    }
}
