import RabbitMQ

/// A publish already handed to the broker (so its place in the broker's order is fixed); await
/// `routed` for the outcome.
public struct BrokerSend: Sendable {
    private enum Source: Sendable {
        case amqp(AMQPPendingPublish)
        case done(Result<Bool, any Error>)
    }

    private let source: Source

    /// A message on its way to RabbitMQ; routed once confirmed, not routed when returned.
    init(_ pending: AMQPPendingPublish) {
        source = .amqp(pending)
    }

    /// An outcome known at once (the in-process broker).
    init(_ result: Result<Bool, any Error>) {
        source = .done(result)
    }

    /// `routed`, handed to `callback` instead of awaited; never inside this call (see `Broker`): on the
    /// loop that published (or one of the node's) once the broker answers, or in a task when the outcome is known already (the
    /// in-process broker's, a publish refused at once, a confirm that came first).
    public func whenRouted(_ callback: @escaping @Sendable (Result<Bool, any Error>) -> Void) {
        switch source {
        case .amqp(let pending):
            let callback = DeferredCompletion(callback)
            defer { callback.callReturned() }
            pending.whenComplete { callback($0.map { $0 == .confirmed }.mapError { $0 }) }
        case .done(let result):
            Task { callback(result) }
        }
    }

    /// True once the broker confirmed it; false when no queue took it (an unknown node).
    public var routed: Bool {
        get async throws {
            switch source {
            case .amqp(let pending): try await pending.outcome == .confirmed
            case .done(let result): try result.get()
            }
        }
    }
}
