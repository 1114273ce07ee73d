import NIOConcurrencyHelpers

/// A broker inside this process for the standalone mode (one node) and unit tests: every publish
/// for this node is handed straight to the handler.
public final class InProcessBroker: Broker {
    /// Holds the handler: a closure kept directly in a generic box gets re-wrapped on every access.
    private final class Handler: Sendable {
        let deliver: @Sendable (BrokerDelivery) -> Void
        init(_ deliver: @escaping @Sendable (BrokerDelivery) -> Void) { self.deliver = deliver }
    }

    private let nodeID: String
    private let handler = NIOLockedValueBox<Handler?>(nil)
    private let lifecycle = NIOLockedValueBox<[(event: String, body: [UInt8])]>([])
    private let upstream = NIOLockedValueBox<(sends: [UpstreamPublication], bytes: Int)>(([], 0))
    /// Lifecycle events kept for `lifecycleEvents`; the oldest go first (a standalone node runs for long).
    public static let keptLifecycleEvents = 10_000

    public init(nodeID: String) {
        self.nodeID = nodeID
    }

    public func start(handler: @escaping @Sendable (BrokerDelivery) -> Void) async throws {
        let boxed = Handler(handler)
        self.handler.withLockedValue { $0 = boxed }
    }

    public func publish(_ body: [UInt8], toNode nodeID: String) -> BrokerSend {
        guard nodeID == self.nodeID, let handler = handler.withLockedValue({ $0 }) else { return BrokerSend(.success(false)) }
        handler.deliver(BrokerDelivery(body: body, source: .node, trusted: true, redelivered: false, settle: { _ in }))
        return BrokerSend(.success(true))
    }

    public func broadcast(_ body: [UInt8]) -> BrokerSend {
        publish(body, toNode: nodeID)
    }

    public func sendControl(_ body: [UInt8]) -> BrokerSend {
        guard let handler = handler.withLockedValue({ $0 }) else { return BrokerSend(.success(false)) }
        handler.deliver(BrokerDelivery(body: body, source: .control, trusted: true, redelivered: false, settle: { _ in }))
        return BrokerSend(.success(true))
    }

    /// Kept for tests, the latest `keptLifecycleEvents` of them: nobody else listens in one process.
    public func publishLifecycle(_ body: [UInt8], event: String) -> BrokerSend {
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

    /// What a producer publishing to the ingress exchange would do.
    public func publishToIngress(_ body: [UInt8]) {
        handler.withLockedValue { $0 }?.deliver(BrokerDelivery(body: body, source: .ingress, redelivered: false, settle: { _ in }))
    }

    public func park(_ body: [UInt8], reason: String) async throws {}

    public func stopConsuming() async {
        handler.withLockedValue { $0 = nil }
    }

    public func shutdown() async {
        await stopConsuming()
    }

    public var notReadyReason: String? { nil }
}
