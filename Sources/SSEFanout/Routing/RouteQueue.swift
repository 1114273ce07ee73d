import NIOConcurrencyHelpers

/// Publications waiting for the router, in arrival order. One drainer at a time takes them in
/// batches: `enqueue` tells the caller when the queue was idle (so it starts the drainer), and `next`
/// marks it idle again when nothing is left, both under one lock, so no item is ever stranded.
final class RouteQueue: Sendable {
    struct Item: Sendable {
        /// One leg: a single target.
        var publication: Publication
        /// The idempotency key to claim (from the publisher's id), if any.
        var claim: String?
        var completion: Router.Completion
    }

    private struct State {
        var items: [Item] = []
        var draining = false
    }

    private let state = NIOLockedValueBox(State())

    /// Queues `items`, together; true when the caller must start draining.
    func enqueue(_ items: [Item]) -> Bool {
        state.withLockedValue { state in
            state.items += items
            if state.draining { return false }
            state.draining = true
            return true
        }
    }

    /// The oldest items, at most `limit`; nil (and idle) when the queue is empty.
    func next(limit: Int) -> [Item]? {
        state.withLockedValue { state in
            if state.items.isEmpty {
                state.draining = false
                return nil
            }
            if state.items.count <= limit {
                defer { state.items = [] }
                return state.items
            }
            defer { state.items.removeFirst(limit) }
            return Array(state.items.prefix(limit))
        }
    }
}
