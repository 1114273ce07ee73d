/// Items handed over from any thread to one drainer at a time, in order, with no task in between.
///
/// The append that finds the queue idle books the drain turn (`append` answers true): its caller
/// starts the drainer, and nobody else does until the turn ends. The drainer takes what has queued
/// and ends its turn only when it finds nothing left (`endTurnIfEmpty`, or `next` answering nil), so
/// no item is ever stranded and no two drainers ever run. A turn is one take where the drainer runs
/// again for each turn anyway (`takeAll`: a hub shard's pass); it lasts batch after batch where the
/// drainer keeps going by itself (`next`: the router, registry writes).
///
/// A value, kept under its owner's lock together with whatever must change with it atomically.
struct DrainQueue<Item> {
    private var items: [Item] = []
    /// A drainer has been asked to run and has not yet found the queue empty.
    private(set) var isTurnBooked = false

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }

    /// Queues `item`; true when the caller must start the drainer.
    mutating func append(_ item: Item) -> Bool {
        items.append(item)
        return bookTurn()
    }

    /// Queues `newItems`, together; true when the caller must start the drainer.
    mutating func append(contentsOf newItems: some Sequence<Item>) -> Bool {
        items.append(contentsOf: newItems)
        return bookTurn()
    }

    /// The oldest items, at most `limit` (perhaps none), keeping the turn.
    mutating func take(limit: Int = .max) -> [Item] {
        guard items.count > limit else {
            defer { items = [] }
            return items
        }
        defer { items.removeFirst(limit) }
        return Array(items.prefix(limit))
    }

    /// Everything queued, ending the turn: the next `append` books a new one.
    mutating func takeAll() -> [Item] {
        defer { isTurnBooked = false }
        return take()
    }

    /// The oldest items, at most `limit`; nil, and the turn ends, when none are left.
    mutating func next(limit: Int = .max) -> [Item]? {
        let batch = take(limit: limit)
        if batch.isEmpty {
            isTurnBooked = false
            return nil
        }
        return batch
    }

    /// Ends the turn if nothing is queued (a drainer that decided it has nothing more to do);
    /// returns whether it ended.
    mutating func endTurnIfEmpty() -> Bool {
        guard items.isEmpty else { return false }
        isTurnBooked = false
        return true
    }

    /// Drops the oldest item, for an owner that bounds the queue.
    mutating func removeOldest() {
        items.removeFirst()
    }

    private mutating func bookTurn() -> Bool {
        if isTurnBooked { return false }
        isTurnBooked = true
        return true
    }
}

extension DrainQueue: Sendable where Item: Sendable {}
