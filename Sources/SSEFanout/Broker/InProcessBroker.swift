import NIOConcurrencyHelpers

/// A broker inside this process for the standalone mode (one node) and unit tests: every publish
/// for this node is handed straight to the handler, inside the call that sent it; each send's
/// `whenRouted` answers from a task.
public final class InProcessBroker: Broker {
    /// Holds the handler: a closure kept directly in a generic box gets re-wrapped on every access.
    fileprivate final class Handler: Sendable {
        let deliver: @Sendable (BrokerDelivery) -> Void
        init(_ deliver: @escaping @Sendable (BrokerDelivery) -> Void) { self.deliver = deliver }
    }

    /// What the broker holds besides its kept events: the handler, and where it stands.
    fileprivate struct State {
        var handler: Handler?
        /// `start` was called: the node's queue exists from then on, consumed or not.
        var started = false
        var shutDown = false
        var sharedQueuesConsumed = true
        /// Ingress messages waiting while the shared queues are not consumed, as `sse.ingress` keeps them.
        var heldIngress: [[UInt8]] = []
        var parked: [(body: [UInt8], reason: String)] = []
    }

    private let nodeID: String
    private let state = NIOLockedValueBox(State())
    private let lifecycle = NIOLockedValueBox<[(event: String, body: [UInt8])]>([])
    private let upstream = NIOLockedValueBox<(sends: [UpstreamPublication], bytes: Int)>(([], 0))
    /// Lifecycle events kept for `lifecycleEvents`; the oldest go first (a standalone node runs for long).
    public static let keptLifecycleEvents = 10_000
    /// Parked messages kept for `parkedMessages`, as many as `sse.poison` keeps; the oldest go first.
    public static let keptParkedMessages = 10_000

    /// What a send after `shutdown` fails with, as RabbitMQ's publisher's do.
    public struct ShutDown: Error, CustomStringConvertible {
        public var description: String { "the in-process broker is shut down" }
    }

    public init(nodeID: String) {
        self.nodeID = nodeID
    }

    /// Takes the ingress messages that waited for it, unless the shared queues are not consumed.
    public func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws {
        let boxed = Handler(handler)
        let held = state.withLockedValue { state -> [[UInt8]] in
            state.handler = boxed
            state.started = true
            return state.takeHeldIngress()
        }
        for body in held { Self.deliverIngress(body, to: boxed) }
    }

    /// Deliveries reach the handler inside this call. After `stopConsuming` the node's queue still
    /// takes messages (routed), which nobody delivers any more.
    public func publish(_ body: [UInt8], toNode nodeID: String) -> BrokerSend {
        let (handler, outcome) = state.withLockedValue { state -> (Handler?, Result<Bool, any Error>) in
            if state.shutDown { return (nil, .failure(ShutDown())) }
            guard nodeID == self.nodeID, state.started else { return (nil, .success(false)) }
            return (state.handler, .success(true))
        }
        handler?.deliver(BrokerDelivery(body: body, source: .node, trusted: true, redelivered: false, settle: { _ in }))
        return BrokerSend(outcome)
    }

    /// Like RabbitMQ's, routed whether or not a node takes it: every node queue is bound for it.
    public func broadcast(_ body: [UInt8]) -> BrokerSend {
        toEveryNode(body, source: .node)
    }

    public func sendControl(_ body: [UInt8]) -> BrokerSend {
        toEveryNode(body, source: .control)
    }

    private func toEveryNode(_ body: [UInt8], source: BrokerDelivery.Source) -> BrokerSend {
        let (handler, shutDown) = state.withLockedValue { ($0.handler, $0.shutDown) }
        if shutDown { return BrokerSend(.failure(ShutDown())) }
        handler?.deliver(BrokerDelivery(body: body, source: source, trusted: true, redelivered: false, settle: { _ in }))
        return BrokerSend(.success(true))
    }

    /// Sends after `shutdown` fail, as they do on RabbitMQ; nil when a send may go ahead.
    private var refused: BrokerSend? {
        state.withLockedValue { $0.shutDown } ? BrokerSend(.failure(ShutDown())) : nil
    }

    /// Kept for tests, the latest `keptLifecycleEvents` of them: nobody else listens in one process.
    public func publishLifecycle(_ body: [UInt8], event: String) -> BrokerSend {
        if let refused { return refused }
        lifecycle.withLockedValue { events in
            if events.count >= Self.keptLifecycleEvents { events.removeFirst(events.count / 2) }
            events.append((event, body))
        }
        return BrokerSend(.success(true))
    }

    /// The lifecycle events published so far (at most the latest `keptLifecycleEvents`), oldest first.
    public var lifecycleEvents: [(event: String, body: [UInt8])] { lifecycle.withLockedValue { $0 } }

    /// A browser's send or upload as it would have reached `sse.upstream`.
    public struct UpstreamPublication: Sendable {
        public var routingKey: String
        public var messageID: String
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// Sends and uploads kept for `upstreamPublications`, by count and by bytes: uploads are large.
    public static let keptUpstreamPublications = 1000
    public static let keptUpstreamBytes = 64 * 1024 * 1024

    /// Kept, like lifecycle events: there is no backend in one process, and tests and the demo read
    /// them here. The oldest go first past `keptUpstreamPublications` or `keptUpstreamBytes`.
    public func publishUpstream(_ body: [UInt8], routingKey: String, messageID: String, headers: [String: String]) -> BrokerSend {
        if let refused { return refused }
        upstream.withLockedValue { kept in
            kept.sends.append(UpstreamPublication(routingKey: routingKey, messageID: messageID, headers: headers, body: body))
            kept.bytes += body.count
            var dropped = 0
            while kept.sends.count - dropped > Self.keptUpstreamPublications || (kept.bytes > Self.keptUpstreamBytes && kept.sends.count - dropped > 1) {
                kept.bytes -= kept.sends[dropped].body.count
                dropped += 1
            }
            kept.sends.removeFirst(dropped)
        }
        return BrokerSend(.success(true))
    }

    /// The sends and uploads published so far (the latest ones, see `keptUpstreamPublications`), oldest first.
    public var upstreamPublications: [UpstreamPublication] { upstream.withLockedValue { $0.sends } }

    /// What a producer publishing to the ingress exchange would do: the message reaches the handler
    /// inside this call, or waits while the shared queues are not consumed (or the broker not started).
    public func publishToIngress(_ body: [UInt8]) {
        let handler = state.withLockedValue { state -> Handler? in
            if state.shutDown { return nil }
            guard state.sharedQueuesConsumed, let handler = state.handler else {
                state.heldIngress.append(body)
                return nil
            }
            return handler
        }
        if let handler { Self.deliverIngress(body, to: handler) }
    }

    /// While off, ingress messages wait (`publishToIngress`); turned on again, they are delivered.
    public func consumeSharedQueues(_ consume: Bool) {
        let (handler, held) = state.withLockedValue { state -> (Handler?, [[UInt8]]) in
            state.sharedQueuesConsumed = consume
            return (state.handler, state.takeHeldIngress())
        }
        if let handler { for body in held { Self.deliverIngress(body, to: handler) } }
    }

    private static func deliverIngress(_ body: [UInt8], to handler: Handler) {
        handler.deliver(BrokerDelivery(body: body, source: .ingress, redelivered: false, settle: { _ in }))
    }

    /// Kept for `parkedMessages`, as `sse.poison` keeps them: there is nobody else to look at them.
    public func park(_ body: [UInt8], reason: String) async throws {
        try state.withLockedValue { state in
            if state.shutDown { throw ShutDown() }
            if state.parked.count >= Self.keptParkedMessages { state.parked.removeFirst(state.parked.count / 2) }
            state.parked.append((body, reason))
        }
    }

    /// The messages parked so far (at most the latest `keptParkedMessages`), oldest first, with why.
    public var parkedMessages: [(body: [UInt8], reason: String)] { state.withLockedValue { $0.parked } }

    public func stopConsuming() async {
        state.withLockedValue { $0.handler = nil }
    }

    public func shutdown() async {
        state.withLockedValue { state in
            state.handler = nil
            state.shutDown = true
            state.heldIngress = []
        }
    }

    public var notReadyReason: String? {
        state.withLockedValue { $0.shutDown } ? ShutDown().description : nil
    }
}

extension InProcessBroker.State {
    /// The held ingress messages, if the handler may take them now; they are no longer held.
    fileprivate mutating func takeHeldIngress() -> [[UInt8]] {
        guard sharedQueuesConsumed, handler != nil else { return [] }
        defer { heldIngress = [] }
        return heldIngress
    }
}
