import Foundation
import SSEFanout
import Testing

/// What every broker must do, as `Broker` documents it: the same tests against `InProcessBroker` (one
/// node, alone) and `RabbitMQBroker` (two nodes of the test's own on the suite's virtual host).
/// One test at a time: a broadcast reaches every node queue of the virtual host, and a node consuming
/// the shared queues takes any test's ingress messages.
@Suite(.serialized) struct BrokerContractTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// How long a test waits to see that something does not arrive.
    private static let quiet = Duration.milliseconds(500)

    /// A send to a node's id reaches that node's handler, and no other, as a trusted `.node` delivery.
    @Test(arguments: BrokerKind.allCases)
    func aSendToANodeReachesThatNodeAlone(_ kind: BrokerKind) async throws {
        try await kind.make(nodes: kind.maxNodes).use { cluster in
            let sender = cluster.nodes[0].broker
            for node in cluster.nodes {
                #expect(try await sender.publish(bytes("to \(node.id)"), toNode: node.id).routed)
            }
            try await cluster.lastArrived(from: sender)
            for node in cluster.nodes {
                #expect(node.received.all == [.fromANode("to \(node.id)"), .fromANode("last")])
            }
        }
    }

    /// A send to a node that has no queue is answered unroutable (`Router` counts it as no node
    /// reached) and reaches nobody.
    @Test(arguments: BrokerKind.allCases)
    func aSendToANodeWithoutAQueueIsUnroutable(_ kind: BrokerKind) async throws {
        try await kind.make(nodes: kind.maxNodes).use { cluster in
            let sender = cluster.nodes[0].broker
            #expect(try await !sender.publish(bytes("lost"), toNode: TestEnvironment.uniqueName("absent")).routed)
            let answer = await CompletionProbe.call { sender.publish(bytes("lost again"), toNode: TestEnvironment.uniqueName("absent")).whenRouted($0) }
            #expect(try answer.value.get() == false)
            try await cluster.lastArrived(from: sender)
            #expect(cluster.nodes.allSatisfy { $0.received.all.map(\.text) == ["last"] })
        }
    }

    /// A broadcast reaches every node once, as a trusted `.node` delivery; a control message every
    /// node, as `.control`.
    @Test(arguments: BrokerKind.allCases)
    func broadcastsAndControlMessagesReachEveryNodeOnce(_ kind: BrokerKind) async throws {
        try await kind.make(nodes: kind.maxNodes).use { cluster in
            let sender = cluster.nodes[0].broker
            #expect(try await sender.broadcast(bytes("everyone")).routed)
            #expect(try await sender.sendControl(bytes("kick")).routed)
            try await cluster.lastArrived(from: sender)
            for node in cluster.nodes {
                #expect(node.received.all == [.fromANode("everyone"), .fromANode("kick", .control), .fromANode("last")])
            }
        }
    }

    /// Messages handed to the broker for one node reach it in the order of the calls, whatever their kind.
    @Test(arguments: BrokerKind.allCases)
    func messagesToOneNodeArriveInTheOrderSent(_ kind: BrokerKind) async throws {
        try await kind.make(nodes: kind.maxNodes).use { cluster in
            let sender = cluster.nodes[0].broker
            let receiver = cluster.nodes[cluster.nodes.count - 1]
            var texts: [String] = []
            var sends: [BrokerSend] = []
            for index in 0..<300 {
                let text = "m\(index)"
                texts.append(text)
                switch index % 10 {
                case 3: sends.append(sender.broadcast(bytes(text)))
                case 7: sends.append(sender.sendControl(bytes(text)))
                default: sends.append(sender.publish(bytes(text), toNode: receiver.id))
                }
            }
            for send in sends { #expect(try await send.routed) }
            try await receiver.received.waitFor(Set(texts))
            #expect(receiver.received.of(Set(texts)).map(\.text) == texts)
        }
    }

    /// A lifecycle event goes out under its name, to whoever listens, and is routed with nobody listening.
    @Test(arguments: BrokerKind.allCases)
    func lifecycleEventsArePublishedUnderTheirName(_ kind: BrokerKind) async throws {
        try await kind.make().use { cluster in
            let broker = cluster.nodes[0].broker
            #expect(try await broker.publishLifecycle(bytes(#"{"event":"nobody.listens"}"#), event: "user.online").routed)
            try await cluster.listenToLifecycle()
            let online = #"{"event":"user.online","user":"\#(TestEnvironment.uniqueName("u"))"}"#
            let vacated = #"{"event":"channel.vacated","channel":"\#(TestEnvironment.uniqueName("c"))"}"#
            #expect(try await broker.publishLifecycle(bytes(online), event: "user.online").routed)
            #expect(try await broker.publishLifecycle(bytes(vacated), event: "channel.vacated").routed)
            try await TestEnvironment.eventually("both events heard") { try cluster.heardLifecycle.count >= 2 }
            #expect(try cluster.heardLifecycle == [.init(text: online, label: "user.online"), .init(text: vacated, label: "channel.vacated")])
            #expect(cluster.nodes[0].received.all.isEmpty, "no node's handler gets them")
        }
    }

    /// The shared queues are taken only while consumed: meanwhile their messages wait, and arrive
    /// once the node consumes them again. Its own queue is consumed either way.
    @Test(arguments: BrokerKind.allCases)
    func ingressIsTakenOnlyWhileTheSharedQueuesAreConsumed(_ kind: BrokerKind) async throws {
        try await kind.make(sharedQueues: false).use { cluster in
            let node = cluster.nodes[0]
            let first = TestEnvironment.uniqueName("ingress")
            try await cluster.publishToIngress(first)
            #expect(try await node.broker.publish(bytes("own"), toNode: node.id).routed)
            try await node.received.waitFor(["own"])
            try await Task.sleep(for: Self.quiet)
            #expect(node.received.of([first]).isEmpty, "taken while not consumed")

            try await cluster.consumeSharedQueues(true, on: node)
            try await node.received.waitFor([first])
            #expect(node.received.of([first]) == [.init(text: first, source: .ingress, trusted: false, redelivered: false)])

            try await cluster.consumeSharedQueues(false, on: node)
            let second = TestEnvironment.uniqueName("ingress")
            try await cluster.publishToIngress(second)
            try await Task.sleep(for: Self.quiet)
            #expect(node.received.of([second]).isEmpty, "taken while not consumed")
            try await cluster.consumeSharedQueues(true, on: node)
            try await node.received.waitFor([second])
            #expect(node.received.of([first, second]).map(\.text) == [first, second])
        }
    }

    /// A parked message is kept, with why, out of every handler's way.
    @Test(arguments: BrokerKind.allCases)
    func aParkedMessageIsKeptWithWhy(_ kind: BrokerKind) async throws {
        try await kind.make().use { cluster in
            try await cluster.readPoison()
            let body = TestEnvironment.uniqueName("poison") + " \u{0}\u{1}"
            try await cluster.nodes[0].broker.park(bytes(body), reason: "malformed JSON")
            try await TestEnvironment.eventually("the parked message is there") { try cluster.parked.contains { $0.text == body } }
            #expect(try cluster.parked.filter { $0.text == body } == [.init(text: body, label: "malformed JSON")])
            #expect(cluster.nodes[0].received.all.isEmpty)
        }
    }

    /// A node that stopped consuming gets nothing more; its queue still takes what is sent to it.
    @Test(arguments: BrokerKind.allCases)
    func aNodeThatStoppedConsumingGetsNothingMore(_ kind: BrokerKind) async throws {
        try await kind.make().use { cluster in
            let node = cluster.nodes[0]
            #expect(try await node.broker.publish(bytes("before"), toNode: node.id).routed)
            try await node.received.waitFor(["before"])
            await node.broker.stopConsuming()
            #expect(try await node.broker.publish(bytes("after"), toNode: node.id).routed)
            #expect(try await node.broker.broadcast(bytes("after, to everyone")).routed)
            try await Task.sleep(for: Self.quiet)
            #expect(node.received.all.map(\.text) == ["before"])
        }
    }

    /// After `shutdown` every send fails, parking too, nothing more reaches the handler, and the
    /// broker says it is not ready.
    @Test(arguments: BrokerKind.allCases)
    func aBrokerShutDownRefusesEverySend(_ kind: BrokerKind) async throws {
        try await kind.make().use { cluster in
            let node = cluster.nodes[0]
            let broker = node.broker
            #expect(broker.notReadyReason == nil)
            await cluster.shutdown(node)
            #expect(broker.notReadyReason != nil)
            let sends = [
                broker.publish(bytes("after"), toNode: node.id), broker.broadcast(bytes("after")), broker.sendControl(bytes("after")),
                broker.publishLifecycle(bytes("after"), event: "user.online"),
                broker.publishUpstream(bytes("after"), routingKey: "contract.after", messageID: "m1", headers: [:]),
            ]
            for send in sends {
                await #expect(throws: (any Error).self) { try await send.routed }
            }
            await #expect(throws: (any Error).self) { try await broker.park(bytes("after"), reason: "test") }
            try await Task.sleep(for: Self.quiet)
            #expect(node.received.all.isEmpty)
        }
    }

    /// A send's `whenRouted` never completes inside the caller's own call: not when the broker
    /// answers later, not when the answer is known already (a confirm that came first, a refusal).
    @Test(arguments: BrokerKind.allCases)
    func whenRoutedNeverCompletesInsideTheCall(_ kind: BrokerKind) async throws {
        try await kind.make().use { cluster in
            let node = cluster.nodes[0]
            let broker = node.broker
            let sends: [(String, @Sendable () -> BrokerSend)] = [
                ("publish", { broker.publish(Array("p".utf8), toNode: node.id) }),
                ("publish to nobody", { broker.publish(Array("p".utf8), toNode: "nobody") }),
                ("broadcast", { broker.broadcast(Array("b".utf8)) }),
                ("sendControl", { broker.sendControl(Array("c".utf8)) }),
                ("publishLifecycle", { broker.publishLifecycle(Array("l".utf8), event: "user.online") }),
                ("publishUpstream", { broker.publishUpstream(Array("u".utf8), routingKey: "contract.nobody", messageID: "m", headers: [:]) }),
            ]
            for (name, send) in sends {
                let (_, inside) = await CompletionProbe.call { send().whenRouted($0) }
                #expect(!inside, "\(name): whenRouted completed inside the call")
                // Asked again once the outcome is known.
                let settled = send()
                _ = try? await settled.routed
                let (_, insideAfterwards) = await CompletionProbe.call { settled.whenRouted($0) }
                #expect(!insideAfterwards, "\(name), settled: whenRouted completed inside the call")
            }
            await cluster.shutdown(node)
            let (refused, inside) = await CompletionProbe.call { broker.publish(Array("p".utf8), toNode: node.id).whenRouted($0) }
            #expect(!inside, "a refused publish completed inside the call")
            #expect(throws: (any Error).self) { try refused.get() }
        }
    }
}
