import Synchronization

/// Keeps the publications to one target in the order the node accepted them, across the async
/// steps of routing (history, registry, broker) that would otherwise let them overtake each other.
///
/// A publication takes a `PublishTicket` the moment it arrives (before anything can reorder it),
/// waits for the one ahead of it in its target's lane to be handed to the broker, and lets the next
/// one go once it has been handed over itself: the broker keeps the order from there. Different
/// targets never wait for each other, and no lane waits for a broker confirm.
public final class PublishLanes: Sendable {
    /// The last ticket of each busy lane; a lane with nothing in flight has no entry.
    private let tails = Mutex<[Target: PublishTicket.Gate]>([:])

    public init() {}

    public func ticket(for target: Target) -> PublishTicket {
        let own = PublishTicket.Gate()
        let ahead = tails.withLock { tails in
            defer { tails[target] = own }
            return tails[target]
        }
        return PublishTicket(ahead: ahead, own: own) { [self] in
            tails.withLock { tails in
                if tails[target] === own { tails.removeValue(forKey: target) }
            }
        }
    }
}

/// A publication's place in its target's lane (see `PublishLanes`).
public struct PublishTicket: Sendable {
    private let ahead: Gate?
    private let own: Gate
    private let leave: @Sendable () -> Void

    fileprivate init(ahead: Gate?, own: Gate, leave: @escaping @Sendable () -> Void) {
        self.ahead = ahead
        self.own = own
        self.leave = leave
    }

    /// Returns once the publication ahead in the lane has been handed to the broker.
    func waitTurn() async {
        await ahead?.wait()
    }

    /// Lets the next publication of the lane go. Call once this one is with the broker, or failed;
    /// calling it again does nothing.
    func pass() {
        if own.open() { leave() }
    }

    /// Opens once; those waiting on it then go.
    final class Gate: Sendable {
        private enum State {
            case closed([CheckedContinuation<Void, Never>])
            case open
        }

        private let state = Mutex(State.closed([]))

        /// Returns false if it was open already.
        func open() -> Bool {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                guard case .closed(let waiters) = state else { return nil }
                state = .open
                return waiters
            }
            guard let waiters else { return false }
            for waiter in waiters { waiter.resume() }
            return true
        }

        func wait() async {
            await withCheckedContinuation { continuation in
                let isOpen = state.withLock { state -> Bool in
                    guard case .closed(var waiters) = state else { return true }
                    waiters.append(continuation)
                    state = .closed(waiters)
                    return false
                }
                if isOpen { continuation.resume() }
            }
        }
    }
}
