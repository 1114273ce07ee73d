/// Where one event stream is in its life, and what it does next: each state holds its own data, each
/// transition returns what to do, and `SSEConnection` does it (writes, closes). It only moves forward:
/// opening → (replaying →) live → closed. Driven without sockets by `StreamStateMachineTests`.
struct StreamStateMachine {
    /// A page of the backlog being written, and whom to tell once it is all with the channel.
    struct ReplayPage {
        var events: ArraySlice<OutboundEvent>
        let written: @Sendable (Bool) -> Void
    }

    enum State {
        /// Being registered: nothing written yet (the response head waits for `connected`); live events
        /// are held back.
        case opening(held: HeldEvents)
        /// `connected` is out; the missed events go out page by page (`page`: the one waiting for the
        /// client to read), live ones are held back. `stalledBeats`: heartbeats in a row that found the
        /// page waiting on a client that read nothing in between.
        case replaying(page: ReplayPage?, held: HeldEvents, stalledBeats: Int)
        /// Events go out as they come.
        case live
        /// Ended: by the server for a reason, or by the client (nil).
        case closed(CloseReason?)
        /// Only while a transition rewrites the state in place (no copy of what it holds).
        case modifying
    }

    private(set) var state: State = .opening(held: HeldEvents())
    /// `sse.maxBufferedBytes`: how much a stream may hold back while it opens or replays.
    let maxHeldBytes: Int

    init(maxHeldBytes: Int) {
        self.maxHeldBytes = maxHeldBytes
    }

    var isOpen: Bool {
        if case .closed = state { return false }
        return true
    }

    /// Why the server ended the stream; nil while open, or when the client closed it.
    var closeReason: CloseReason? {
        if case .closed(let reason) = state { return reason }
        return nil
    }

    // MARK: - Events

    enum EnqueueAction {
        /// Live: write it (if the stream did not have it yet).
        case send
        /// Held back until the stream is live.
        case held
        /// It would hold more than it may: close it as a slow client.
        case closeSlowClient(heldCount: Int)
        /// Closed.
        case drop
    }

    mutating func enqueue(_ event: OutboundEvent) -> EnqueueAction {
        switch state {
        case .live:
            return .send
        case .opening(var held):
            state = .modifying
            let taken = held.append(event, maxBytes: maxHeldBytes)
            state = .opening(held: held)
            return taken ? .held : .closeSlowClient(heldCount: held.events.count)
        case .replaying(let page, var held, let beats):
            state = .modifying
            let taken = held.append(event, maxBytes: maxHeldBytes)
            state = .replaying(page: page, held: held, stalledBeats: beats)
            return taken ? .held : .closeSlowClient(heldCount: held.events.count)
        case .closed:
            return .drop
        case .modifying:
            preconditionFailure("re-entered while modifying")
        }
    }

    enum FlushAction {
        case none
        case write
        /// The channel holds more than the client reads: close it as a slow client.
        case closeSlowClient
    }

    /// Only a live stream writes on a pass; a replay writes its pages itself.
    func flush(hasOutbox: Bool, isWritable: Bool) -> FlushAction {
        guard case .live = state, hasOutbox else { return .none }
        return isWritable ? .write : .closeSlowClient
    }

    enum ControlAction {
        case drop
        /// Replaying: right after what was written (the stream ends next).
        case appendAndWrite
        /// Live: as any event would go.
        case appendAndFlush
    }

    /// Bytes that are no event (a `retry:` hint, a farewell): never before `connected`.
    func control() -> ControlAction {
        switch state {
        case .opening, .closed: .drop
        case .replaying: .appendAndWrite
        case .live: .appendAndFlush
        case .modifying: preconditionFailure("re-entered while modifying")
        }
    }

    enum HeartbeatAction {
        case none
        case send
        /// A replay that waited two beats on a client that read nothing: close it as a slow client.
        case closeSlowClient
    }

    /// A replay that waits on a client that read nothing over a whole interval (two beats) is as
    /// stuck as a live client past its bound.
    mutating func heartbeat(isWritable: Bool) -> HeartbeatAction {
        switch state {
        case .live:
            return .send
        case .replaying(let page, let held, let beats):
            guard page != nil, !isWritable else {
                state = .replaying(page: page, held: held, stalledBeats: 0)
                return .none
            }
            state = .replaying(page: page, held: held, stalledBeats: beats + 1)
            return beats + 1 >= 2 ? .closeSlowClient : .none
        case .opening, .closed:
            return .none
        case .modifying:
            preconditionFailure("re-entered while modifying")
        }
    }

    // MARK: - Opening and replaying

    /// Opening → live (`connected` sent, nothing to replay): the held events to send after it; nil
    /// when it is not opening (closed meanwhile).
    mutating func activate() -> [OutboundEvent]? {
        guard case .opening(var held) = state else { return nil }
        state = .live
        return held.takeAll()
    }

    /// Opening → replaying: false when it is not opening.
    mutating func beginReplay() -> Bool {
        guard case .opening(let held) = state else { return false }
        state = .replaying(page: nil, held: held, stalledBeats: 0)
        return true
    }

    /// Replaying, no page waiting: true, and the caller writes `page` (`takePage` hands it over).
    mutating func startPage(_ page: ReplayPage) -> Bool {
        guard case .replaying(nil, let held, let beats) = state else { return false }
        state = .replaying(page: page, held: held, stalledBeats: beats)
        return true
    }

    /// The page waiting to be written, taken out while it is (a writability change fired from inside
    /// a write then finds nothing to resume).
    mutating func takePage() -> ReplayPage? {
        guard case .replaying(let page?, let held, let beats) = state else { return nil }
        state = .replaying(page: nil, held: held, stalledBeats: beats)
        return page
    }

    /// What is left of a page once the channel took no more: it waits for the client to read. False
    /// when the stream is no longer replaying (the caller then tells the page's owner).
    mutating func park(_ page: ReplayPage) -> Bool {
        guard case .replaying(nil, let held, let beats) = state else { return false }
        state = .replaying(page: page, held: held, stalledBeats: beats)
        return true
    }

    /// The client read: a stall count starts again.
    mutating func clientRead() {
        guard case .replaying(let page, let held, _) = state else { return }
        state = .replaying(page: page, held: held, stalledBeats: 0)
    }

    /// Replaying → live: the held events to send; nil when it is not replaying.
    mutating func finishReplay() -> [OutboundEvent]? {
        guard case .replaying(_, var held, _) = state else { return nil }
        state = .live
        return held.takeAll()
    }

    // MARK: - Ending

    enum CloseAction {
        case none
        /// Close the channel; `flushFirst` when nothing was activated yet (the response head still
        /// waits), so the client sees a stream that ended rather than a connection dropped. `page`:
        /// a replay page whose owner must hear that the stream ended.
        case close(flushFirst: Bool, page: ReplayPage?)
    }

    /// Ended by the server for `reason` (nil: the client went away, nothing to close).
    mutating func close(_ reason: CloseReason?) -> CloseAction {
        let flushFirst: Bool
        var page: ReplayPage?
        switch state {
        case .closed:
            return .none
        case .opening:
            flushFirst = true
        case .replaying(let waiting, _, _):
            flushFirst = false
            page = waiting
        case .live:
            flushFirst = false
        case .modifying:
            preconditionFailure("re-entered while modifying")
        }
        state = .closed(reason)
        return .close(flushFirst: flushFirst, page: page)
    }
}
