import NIOConcurrencyHelpers

/// The bytes of send and upload bodies this node holds at once, across every request, bounded
/// (`upstream.maxHeldBytes`): a body is held whole until it is forwarded or published, so without a
/// bound a few hundred concurrent uploads would take the node's memory. Past it a request gets 503 with
/// `Retry-After` and the node keeps serving everyone else.
final class BodyBudget: Sendable {
    let limit: Int
    private let held = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Bytes held now, by every request.
    var heldBytes: Int { held.withLockedValue { $0 } }

    /// A new request's share, empty until it reserves.
    func share() -> BodyReservation { BodyReservation(budget: self) }

    fileprivate func take(_ count: Int) -> Bool {
        held.withLockedValue { held in
            guard held + count <= limit else { return false }
            held += count
            return true
        }
    }

    fileprivate func give(_ count: Int) {
        held.withLockedValue { $0 -= count }
    }
}

/// What one request holds of the `BodyBudget`. It gives everything back when it goes away, so a
/// request that fails on any path (a reset connection, a refusal, an error) cannot leak its share.
final class BodyReservation: Sendable {
    private let budget: BodyBudget
    private let count = NIOLockedValueBox(0)

    fileprivate init(budget: BodyBudget) {
        self.budget = budget
    }

    /// Makes this request's share at least `total` bytes (its announced length, or what it sent so
    /// far); false, with nothing more taken, when the node holds its most.
    func cover(_ total: Int) -> Bool {
        count.withLockedValue { count in
            guard total > count else { return true }
            guard budget.take(total - count) else { return false }
            count = total
            return true
        }
    }

    /// Gives the share back now: once the body was handed on, before the answer goes out, so that a
    /// client that sends again on hearing it finds the room.
    func release() {
        budget.give(count.withLockedValue { count in
            defer { count = 0 }
            return count
        })
    }

    deinit {
        release()
    }
}
