import NIOCore

/// A send or upload on its way to the backend at `upstream.url` while its body still arrives
/// (`UpstreamRoutes.swift`): the forward starts with the checked head, and each piece of the body goes
/// on as it comes, under the request's limit and, for a send, a JSON check. A body that breaks either
/// aborts the backend's request. Lives on the connection's event loop.
final class ForwardedSend {
    enum State {
        /// The body is arriving.
        case receiving
        /// The browser sent all of it; the backend's answer is awaited.
        case received
        /// The body broke a rule: the forward was cancelled, and this is the answer once it settled.
        case refused(SendRefusal)
        /// Answered before the body ended, or the connection closed: the rest of the body goes nowhere.
        case stopped
    }

    let request: SendRequest
    private(set) var state = State.receiving
    /// Body bytes received so far.
    private(set) var received = 0
    private let body: SendBodyStream
    private var task: Task<Void, Never>?
    /// A send's JSON check.
    private var json: JSONStreamValidator?
    /// A send's last piece when its length was announced: it completes the backend's request, so it goes
    /// on only once the body ended as JSON (a chunked body's end is its own, sent with `finish`). The
    /// backend never has the whole of a send that is not JSON.
    private var heldBack: ByteBuffer?

    init(_ request: SendRequest, body: SendBodyStream) {
        self.request = request
        self.body = body
        self.json = request.kind == .send ? JSONStreamValidator() : nil
    }

    /// Starts the forward (connection check, once-only claim, the backend's request); `answered` gets its
    /// answer on `eventLoop`.
    func start(_ sender: UpstreamSender, on eventLoop: any EventLoop, answered: @escaping @Sendable (SendAnswer) -> Void) {
        let promise = eventLoop.makePromise(of: SendAnswer.self)
        task = Task { [request, bytes = body.bytes] in
            promise.succeed(await sender.forward(request, body: bytes))
        }
        promise.futureResult.whenSuccess(answered)
    }

    /// The next piece of the body.
    func receive(_ piece: ByteBuffer) {
        guard case .receiving = state else { return }
        received += piece.readableBytes
        guard received <= request.bodyLimit else { return refuse(SendRequest.tooLarge(request.bodyLimit)) }
        if json != nil {
            guard json?.feed(piece.readableBytesView) == true else { return refuse(SendRequest.notJSON) }
            if received == request.declaredLength { return heldBack = piece }
        }
        body.write(piece)
    }

    /// The browser's body ended.
    func end() {
        guard case .receiving = state else { return }
        if let json, !json.isComplete { return refuse(SendRequest.notJSON) }
        if let heldBack { body.write(heldBack) }
        heldBack = nil
        state = .received
        body.finish()
    }

    /// The answer came before the body ended, or the connection closed: the backend's request is aborted
    /// if it does not have the whole body yet; `readOn`, the connection reads the rest to drop it. A
    /// forward that has the whole body is left to settle: the backend's answer decides its claim.
    func stop(readOn: Bool) {
        guard case .receiving = state else { return }
        state = .stopped
        heldBack = nil
        task?.cancel()
        body.fail(CancellationError(), readOn: readOn)
    }

    /// The connection stops reading; the refusal is the answer once the forward settled (its claim given back).
    private func refuse(_ refusal: SendRefusal) {
        state = .refused(refusal)
        heldBack = nil
        task?.cancel()
        body.fail(refusal, readOn: false)
    }
}
