import NIOCore
import NIOHTTP1

/// Where one HTTP connection is in its current request, and what it does next: each state holds its
/// own data, each input returns what to do, and `HTTPHandler` does it (answers, routes, forwards). Like
/// `StreamStateMachine`, it does no I/O and knows no channel. A new head starts over from any state but
/// `stream` and `closed`, which are for good. Driven without sockets by `HTTPConnectionStateMachineTests`.
struct HTTPConnectionStateMachine {
    enum State {
        /// Between requests: the next head is awaited.
        case idle
        /// A plain request's body is read whole (nil until its first piece), up to `maxBodySize`.
        case readingBody(head: HTTPRequestHead, body: ByteBuffer?)
        /// A send's or upload's head is being checked (`HTTPHandler.checkSend`); `sendChecked` says how
        /// its body is read.
        case checkingSend(head: HTTPRequestHead)
        /// A send or upload whose head was checked, until it is answered: its body is held, forwarded or
        /// dropped. A forward stays here after the body's end, until the backend answers.
        case send(head: HTTPRequestHead, PendingSend)
        /// Answered before its body was read through, and closing: the rest of the request is dropped.
        case discardingBody
        /// The connection became an event stream: whatever the client sent after its `GET /events`
        /// (pipelined requests the decoder still hands over) is dropped and never answered.
        case stream
        /// The connection closed.
        case closed
        /// Only while a transition rewrites the state in place (no copy of the body it holds).
        case modifying
    }

    enum Action {
        case none
        /// Check a send's or upload's head (`HTTPHandler.checkSend`), and tell `sendChecked`.
        case checkSend(HTTPRequestHead, SendKind, rest: Substring)
        /// Answer 413 and close: a plain request's body is larger than `maxBodySize`.
        case refuseBody(HTTPRequestHead)
        /// The request was read whole: hand it to its route.
        case route(HTTPRequestHead, body: ByteBuffer?)
        /// Answer a send or upload; `close` when its body was not read through.
        case answer(HTTPRequestHead, SendAnswer, close: Bool)
        /// Start the forward the machine now holds (its answer comes to `forwardAnswered`).
        case startForward(ForwardedSend)
        /// Pass a piece of the body on to the backend.
        case forward(ForwardedSend, ByteBuffer)
        /// The browser's body ended: the forward finishes it.
        case endForward(ForwardedSend)
        /// Abort a forward still receiving its body; `readOn`: keep reading, to drop the rest.
        case stopForward(ForwardedSend, readOn: Bool)
        /// Publish a held body to RabbitMQ, then answer (the reservation is given back once it was handed on).
        case publish(HTTPRequestHead, SendRequest, BodyReservation, body: ByteBuffer)
    }

    /// How a send's body is read, as its head decided.
    enum SendCheck {
        /// Read whole and held under the node's `BodyBudget`, for RabbitMQ.
        case hold(SendRequest, BodyReservation)
        /// Passed on to the backend as it arrives (not started yet).
        case forward(ForwardedSend)
        case refuse(SendRefusal)
    }

    private(set) var state = State.idle
    /// `http.maxBodySize`: a plain request's body is read whole up to this.
    let maxBodySize: Int
    /// `upstream.maxUploadSize`: a refused send's body is read and dropped up to this, then the
    /// connection closes.
    let maxUploadSize: Int

    init(maxBodySize: Int, maxUploadSize: Int) {
        self.maxBodySize = maxBodySize
        self.maxUploadSize = maxUploadSize
    }

    // MARK: - Reading

    mutating func head(_ head: HTTPRequestHead) -> Action {
        switch state {
        case .stream, .closed:
            return .none
        case .idle, .readingBody, .checkingSend, .send, .discardingBody:
            // What the last request left goes (a forward still awaited is not answered).
            break
        case .modifying:
            preconditionFailure("re-entered while modifying")
        }
        if head.method == .POST, let (kind, rest) = SendKind.of(path: HTTPRequest.path(of: head.uri)) {
            state = .checkingSend(head: head)
            return .checkSend(head, kind, rest: rest)
        }
        // An announced oversize body is refused before any of it is read.
        if let length = Self.announcedLength(head), length > maxBodySize {
            state = .discardingBody
            return .refuseBody(head)
        }
        state = .readingBody(head: head, body: nil)
        return .none
    }

    mutating func body(_ piece: ByteBuffer) -> Action {
        switch state {
        case .readingBody(let head, var body):
            guard (body?.readableBytes ?? 0) + piece.readableBytes <= maxBodySize else {
                state = .discardingBody
                return .refuseBody(head)
            }
            state = .modifying
            Self.append(piece, to: &body)
            state = .readingBody(head: head, body: body)
            return .none
        case .send(let head, .dropping(let answer, let dropped)):
            let total = dropped + piece.readableBytes
            // Past an upload's worth, the caller is answered now and the connection closed.
            guard total <= maxUploadSize else { return answerNow(head, answer) }
            state = .send(head: head, .dropping(answer, dropped: total))
            return .none
        case .send(let head, .holding(let request, let reservation, var body)):
            let total = (body?.readableBytes ?? 0) + piece.readableBytes
            guard total <= request.bodyLimit else { return answerNow(head, .refused(SendRequest.tooLarge(request.bodyLimit))) }
            // What was held goes, and the rest is dropped, before the busy node answers.
            guard reservation.cover(total) else {
                state = .send(head: head, .dropping(.refused(.busy), dropped: piece.readableBytes))
                return .none
            }
            state = .modifying
            Self.append(piece, to: &body)
            state = .send(head: head, .holding(request, reservation, body: body))
            return .none
        case .send(_, .forwarding(let forward)):
            return .forward(forward, piece)
        case .idle, .checkingSend, .discardingBody, .stream, .closed:
            return .none
        case .modifying:
            preconditionFailure("re-entered while modifying")
        }
    }

    mutating func end() -> Action {
        switch state {
        case .readingBody(let head, let body):
            state = .idle
            return .route(head, body: body)
        case .send(let head, .dropping(let answer, _)):
            state = .idle
            return .answer(head, answer, close: false)
        case .send(let head, .holding(let request, let reservation, let body)):
            state = .idle
            return .publish(head, request, reservation, body: body ?? ByteBuffer())
        case .send(_, .forwarding(let forward)):
            // Answered once the forward settles (`forwardAnswered`).
            return .endForward(forward)
        case .idle, .checkingSend, .discardingBody, .stream, .closed:
            return .none
        case .modifying:
            preconditionFailure("re-entered while modifying")
        }
    }

    // MARK: - Sends

    /// The send's head was checked.
    mutating func sendChecked(_ check: SendCheck) -> Action {
        guard case .checkingSend(let head) = state else { return .none }
        switch check {
        case .hold(let request, let reservation):
            state = .send(head: head, .holding(request, reservation, body: nil))
            return .none
        case .forward(let forward):
            // Held before it starts: its answer may come at once.
            state = .send(head: head, .forwarding(forward))
            return .startForward(forward)
        case .refuse(let refusal):
            // Sent now when the body is too large to read through (or says so), else once it was read and dropped.
            if refusal.status == .payloadTooLarge || (Self.announcedLength(head) ?? 0) > maxUploadSize {
                return answerNow(head, .refused(refusal))
            }
            state = .send(head: head, .dropping(.refused(refusal), dropped: 0))
            return .none
        }
    }

    /// The backend's answer to `forward`: sent now when the browser's body ended; when it has not, sent
    /// once the rest was read and dropped, or (a body that broke a rule) now, closing the connection.
    mutating func forwardAnswered(_ forward: ForwardedSend, _ answer: SendAnswer) -> Action {
        // Otherwise the connection closed, or moved on.
        guard case .send(let head, .forwarding(let current)) = state, current === forward else { return .none }
        switch forward.state {
        case .received:
            state = .idle
            return .answer(head, answer, close: false)
        case .refused(let refusal):
            return answerNow(head, .refused(refusal))
        case .receiving, .stopped:
            state = .send(head: head, .dropping(answer, dropped: forward.received))
            return .stopForward(forward, readOn: true)
        }
    }

    // MARK: - Ending

    /// `GET /events` took the connection over.
    mutating func becameStream() {
        state = .stream
    }

    /// The connection closed: a forward still receiving its body is aborted, anything held goes.
    mutating func channelInactive() -> Action {
        let last = state
        state = .closed
        guard case .send(_, .forwarding(let forward)) = last else { return .none }
        return .stopForward(forward, readOn: false)
    }

    /// Answers before the body was read through; the connection closes after, unread.
    private mutating func answerNow(_ head: HTTPRequestHead, _ answer: SendAnswer) -> Action {
        state = .discardingBody
        return .answer(head, answer, close: true)
    }

    /// The first piece is kept as it came, without a copy.
    private static func append(_ piece: ByteBuffer, to body: inout ByteBuffer?) {
        guard body != nil else { return body = piece }
        var piece = piece
        body!.writeBuffer(&piece)
    }

    private static func announcedLength(_ head: HTTPRequestHead) -> Int? {
        head.headers.first(name: "content-length").flatMap(Int.init)
    }
}
