import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import SSEFanout

/// An HTTP connection's requests without a socket: what each input decides.
@Suite struct HTTPConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine

    private static let maxBodySize = 100
    private static let maxUploadSize = 1000

    private func machine() -> Machine { Machine(maxBodySize: Self.maxBodySize, maxUploadSize: Self.maxUploadSize) }

    private func head(_ method: HTTPMethod, _ uri: String, _ headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    private func piece(_ count: Int, _ byte: UInt8 = 0x61) -> ByteBuffer { ByteBuffer(bytes: [UInt8](repeating: byte, count: count)) }

    private func sendHead(_ kind: SendKind = .send, length: Int? = nil) -> HTTPRequestHead {
        var headers = [("Content-Type", kind == .send ? "application/json" : "multipart/form-data; boundary=b")]
        if let length { headers.append(("Content-Length", String(length))) }
        return head(.POST, "/\(kind.rawValue)/chat", headers)
    }

    /// A send's head, and the request `SendRequest` makes of it (authentication off).
    private func send(_ kind: SendKind = .send, length: Int? = nil) throws -> (HTTPRequestHead, SendRequest) {
        let head = sendHead(kind, length: length)
        var configuration = AuthConfiguration()
        configuration.disabled = true
        let request = try SendRequest(
            head: head, kind: kind, path: "chat", authenticator: Authenticator(configuration: configuration, keys: [], signingKey: nil),
            limits: .init(maxBodySize: Self.maxBodySize, maxUploadSize: Self.maxUploadSize))
        return (head, request)
    }

    /// A machine past a send's head, with its body being forwarded.
    private func forwarding(_ kind: SendKind = .upload) throws -> (machine: Machine, forward: ForwardedSend, head: HTTPRequestHead) {
        var machine = machine()
        let (head, request) = try send(kind)
        _ = machine.head(head)
        let forward = ForwardedSend(request, body: SendBodyStream(eventLoop: EmbeddedEventLoop(), pauseReads: {}, resumeReads: {}))
        guard case .startForward(let started) = machine.sendChecked(.forward(forward)), started === forward else {
            Issue.record("the forward did not start")
            return (machine, forward, head)
        }
        return (machine, forward, head)
    }

    /// The answer an action sends, and whether the connection closes after it.
    private func answer(_ action: Machine.Action) -> (answer: SendAnswer, close: Bool)? {
        guard case .answer(_, let answer, let close) = action else { return nil }
        return (answer, close)
    }

    private func refusal(_ action: Machine.Action) -> (refusal: SendRefusal, close: Bool)? {
        guard let (answer, close) = answer(action), case .refused(let refusal) = answer else { return nil }
        return (refusal, close)
    }

    /// Whether nothing the client sends is read any more: a new request goes unanswered.
    private func ignoresEverything(_ machine: inout Machine) -> Bool {
        let actions = [machine.head(head(.GET, "/healthz")), machine.body(piece(1)), machine.end()]
        return actions.allSatisfy { if case .none = $0 { true } else { false } }
    }

    // MARK: - Plain requests

    @Test func aBodyIsReadWholeThenRouted() throws {
        var machine = machine()
        let request = head(.POST, "/publish", [("Content-Type", "application/json")])
        guard case .none = machine.head(request) else { Issue.record("answered before the body"); return }
        guard case .none = machine.body(piece(60, 0x61)) else { Issue.record("answered mid-body"); return }
        guard case .none = machine.body(piece(40, 0x62)) else { Issue.record("a body of exactly the limit refused"); return }
        guard case .route(let routed, let body) = machine.end() else { Issue.record("not routed"); return }
        #expect(routed == request)
        #expect(body == ByteBuffer(bytes: [UInt8](repeating: 0x61, count: 60) + [UInt8](repeating: 0x62, count: 40)))
        guard case .idle = machine.state else { Issue.record("not idle after the request"); return }
    }

    @Test func anAnnouncedOversizeBodyIsRefusedBeforeAnyOfItIsRead() {
        var machine = machine()
        let request = head(.POST, "/publish", [("Content-Length", String(Self.maxBodySize + 1))])
        guard case .refuseBody(let refused) = machine.head(request) else { Issue.record("not refused from its head"); return }
        #expect(refused == request)
        guard case .none = machine.body(piece(10)) else { Issue.record("the body was read"); return }
        guard case .none = machine.end() else { Issue.record("routed after its refusal"); return }
    }

    @Test func aChunkedBodyPastTheLimitIsRefusedAndTheRestDropped() {
        var machine = machine()
        _ = machine.head(head(.POST, "/publish", [("Transfer-Encoding", "chunked")]))
        _ = machine.body(piece(60))
        guard case .refuseBody = machine.body(piece(41)) else { Issue.record("read past the limit"); return }
        guard case .none = machine.body(piece(10)) else { Issue.record("refused twice"); return }
        guard case .none = machine.end() else { Issue.record("routed after its refusal"); return }
    }

    @Test func aSecondRequestOnAKeptAliveConnectionStartsAfresh() {
        var machine = machine()
        _ = machine.head(head(.POST, "/publish"))
        _ = machine.body(piece(60))
        _ = machine.end()
        let second = head(.GET, "/healthz")
        guard case .none = machine.head(second) else { Issue.record("the second head was not read"); return }
        // The first body counts neither towards the second's limit nor as its body.
        guard case .none = machine.body(piece(60)) else { Issue.record("the first body counted"); return }
        guard case .route(let routed, let body) = machine.end() else { Issue.record("the second request not routed"); return }
        #expect(routed == second && body?.readableBytes == 60)
        _ = machine.head(head(.GET, "/readyz"))
        guard case .route(_, nil) = machine.end() else { Issue.record("a request without a body got one"); return }
    }

    @Test func anOversizeRefusalDoesNotOutliveItsRequest() {
        var machine = machine()
        _ = machine.head(head(.POST, "/publish", [("Content-Length", "1000")]))
        // A pipelined request the decoder still hands over is read as any other.
        _ = machine.head(head(.GET, "/healthz"))
        guard case .route = machine.end() else { Issue.record("the next request was dropped"); return }
    }

    // MARK: - Streams and closing

    @Test func aStreamTakeoverDropsWhateverFollows() {
        var machine = machine()
        let events = head(.GET, "/events?user=alice")
        _ = machine.head(events)
        guard case .route(let routed, _) = machine.end() else { Issue.record("not routed"); return }
        #expect(routed == events)
        machine.becameStream()
        #expect(ignoresEverything(&machine), "a pipelined request after GET /events was read")
        guard case .none = machine.channelInactive() else { Issue.record("a stream's close did something"); return }
    }

    @Test func nothingIsReadAfterTheConnectionClosed() {
        var machine = machine()
        _ = machine.head(head(.POST, "/publish"))
        guard case .none = machine.channelInactive() else { Issue.record("a plain request's close did something"); return }
        #expect(ignoresEverything(&machine))
    }

    // MARK: - Sends held for RabbitMQ

    @Test func aSendsHeadIsCheckedBeforeItsBody() throws {
        var machine = machine()
        let (request, _) = try send()
        guard case .checkSend(let checked, .send, let rest) = machine.head(request) else { Issue.record("not checked as a send"); return }
        #expect(checked == request && rest == "chat")
        guard case .checkSend(_, .upload, "a/b") = machine.head(head(.POST, "/upload/a/b?x=1")) else { Issue.record("not an upload"); return }
        // Only a POST is a send, and the oversize rule for plain bodies is not a send's.
        guard case .none = machine.head(head(.GET, "/send/chat")) else { Issue.record("a GET is a send"); return }
        guard case .checkSend = machine.head(head(.POST, "/send/chat", [("Content-Length", "500")])) else {
            Issue.record("a send refused by the plain body limit")
            return
        }
    }

    @Test func aHeldBodyIsPublishedWhole() throws {
        var machine = machine()
        let (head, request) = try send()
        let budget = BodyBudget(limit: 1000)
        _ = machine.head(head)
        guard case .none = machine.sendChecked(.hold(request, budget.share())) else { Issue.record("answered before the body"); return }
        _ = machine.body(ByteBuffer(string: "{\"a\":"))
        _ = machine.body(ByteBuffer(string: "1}"))
        #expect(budget.heldBytes == 7, "the held body was not reserved")
        guard case .publish(let published, _, _, let body) = machine.end() else { Issue.record("not published"); return }
        #expect(published == head && body == ByteBuffer(string: "{\"a\":1}"))
        guard case .idle = machine.state else { Issue.record("not idle after the send"); return }
    }

    @Test func aHeldBodyPastItsLimitIsAnsweredNowAndTheConnectionCloses() throws {
        var machine = machine()
        let (head, request) = try send()
        _ = machine.head(head)
        _ = machine.sendChecked(.hold(request, BodyBudget(limit: 1000).share()))
        let r1 = refusal(machine.body(piece(Self.maxBodySize + 1)))
        let (refused, close) = try #require(r1, "read past the send's limit")
        #expect(refused == SendRequest.tooLarge(Self.maxBodySize) && close)
        guard case .none = machine.end() else { Issue.record("answered twice"); return }
    }

    @Test func aBodyTheNodeCannotHoldIsDroppedThenAnsweredBusy() throws {
        var machine = machine()
        let (head, request) = try send()
        let budget = BodyBudget(limit: 50)
        _ = machine.head(head)
        _ = machine.sendChecked(.hold(request, budget.share()))
        guard case .none = machine.body(piece(40)) else { Issue.record("answered within the budget"); return }
        guard case .none = machine.body(piece(40)) else { Issue.record("answered before the body ended"); return }
        guard case .send(_, .dropping(_, 40)) = machine.state else { Issue.record("the body was not dropped"); return }
        let r2 = refusal(machine.end())
        let (refused, close) = try #require(r2, "not answered at the end")
        #expect(refused == .busy && !close)
    }

    @Test func aRefusalFromTheHeadIsSentOnceTheBodyWasDropped() throws {
        var machine = machine()
        let head = sendHead(length: 20)
        let unauthorized = SendRefusal(.unauthorized, "missing_token", "no token")
        _ = machine.head(head)
        guard case .none = machine.sendChecked(.refuse(unauthorized)) else { Issue.record("answered before the body was read"); return }
        guard case .none = machine.body(piece(20)) else { Issue.record("answered mid-body"); return }
        let r3 = refusal(machine.end())
        let (refused, close) = try #require(r3)
        #expect(refused == unauthorized && !close, "a body read through keeps the connection")
    }

    @Test func aRefusalFromTheHeadIsSentAtOnceWhenTheBodyIsTooLargeToDrop() throws {
        let unauthorized = SendRefusal(.unauthorized, "missing_token", "no token")
        var announced = machine()
        _ = announced.head(sendHead(length: Self.maxUploadSize + 1))
        let r4 = refusal(announced.sendChecked(.refuse(unauthorized)))
        #expect(r4?.close == true, "an announced body past an upload's worth was waited for")

        var tooLarge = machine()
        let small = sendHead(length: 10)
        _ = tooLarge.head(small)
        let r5 = refusal(tooLarge.sendChecked(.refuse(SendRequest.tooLarge(5))))
        #expect(r5?.close == true, "a 413 waited for the body")

        var chunked = machine()
        _ = chunked.head(small)
        _ = chunked.sendChecked(.refuse(unauthorized))
        guard case .none = chunked.body(piece(Self.maxUploadSize)) else { Issue.record("answered within an upload's worth"); return }
        let r6 = refusal(chunked.body(piece(1)))
        #expect(r6?.refusal == unauthorized && r6?.close == true, "dropped past an upload's worth")
        guard case .none = chunked.end() else { Issue.record("answered twice"); return }
    }

    // MARK: - Sends forwarded to the backend

    @Test func aForwardGetsEachPieceAndItsEndThenTheBackendsAnswer() throws {
        let started = try forwarding()
        var machine = started.machine
        let (forward, head) = (started.forward, started.head)
        guard case .forward(let to, let sent) = machine.body(piece(5)), to === forward else { Issue.record("a piece not forwarded"); return }
        #expect(sent == piece(5))
        guard case .endForward(let ended) = machine.end(), ended === forward else { Issue.record("the end not forwarded"); return }
        forward.end()
        let stranger = try forwarding().forward
        guard case .none = machine.forwardAnswered(stranger, .node(.accepted, [])) else { Issue.record("another forward's answer taken"); return }
        guard case .answer(let answered, .node(.accepted, _), false) = machine.forwardAnswered(forward, .node(.accepted, [])) else {
            Issue.record("the backend's answer not sent")
            return
        }
        #expect(answered == head)
        guard case .idle = machine.state else { Issue.record("not idle after the answer"); return }
        guard case .none = machine.forwardAnswered(forward, .node(.accepted, [])) else { Issue.record("answered twice"); return }
    }

    @Test func anEarlyAnswerStopsTheForwardAndWaitsForTheRestOfTheBody() throws {
        let started = try forwarding()
        var machine = started.machine
        let forward = started.forward
        _ = machine.body(piece(30))
        forward.receive(piece(30))
        guard case .stopForward(let stopped, readOn: true) = machine.forwardAnswered(forward, .node(.accepted, [])) else {
            Issue.record("the forward was not stopped to read on")
            return
        }
        #expect(stopped === forward)
        // The rest counts with what the forward had, towards an upload's worth.
        guard case .send(_, .dropping(_, 30)) = machine.state else { Issue.record("not dropping what it had"); return }
        stopped.stop(readOn: true)
        guard case .none = machine.body(piece(10)) else { Issue.record("the rest was forwarded"); return }
        guard case .answer(_, .node(.accepted, _), false) = machine.end() else { Issue.record("not answered at the end"); return }
    }

    @Test func aForwardedBodyThatBrokeARuleIsAnsweredNow() throws {
        let started = try forwarding(.send)
        var machine = started.machine
        let forward = started.forward
        _ = machine.end()
        forward.end()  // No JSON at all.
        let r7 = refusal(machine.forwardAnswered(forward, .node(.accepted, [])))
        #expect(r7?.refusal == SendRequest.notJSON && r7?.close == true)
    }

    @Test func closingDuringASendAbandonsIt() throws {
        let started = try forwarding()
        var machine = started.machine
        let forward = started.forward
        _ = machine.body(piece(5))
        guard case .stopForward(let stopped, readOn: false) = machine.channelInactive(), stopped === forward else {
            Issue.record("the forward was not aborted")
            return
        }
        guard case .none = machine.forwardAnswered(forward, .node(.accepted, [])) else { Issue.record("answered a closed connection"); return }
        #expect(ignoresEverything(&machine))

        var holding = self.machine()
        let (head, request) = try send()
        let budget = BodyBudget(limit: 1000)
        _ = holding.head(head)
        _ = holding.sendChecked(.hold(request, budget.share()))
        _ = holding.body(piece(5))
        _ = holding.channelInactive()
        #expect(budget.heldBytes == 0, "the closed connection's body is still held")
    }
}
