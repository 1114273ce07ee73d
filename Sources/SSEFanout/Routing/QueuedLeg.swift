/// A publication's leg (a single target) waiting in the router's queue.
struct QueuedLeg: Sendable {
    var publication: Publication
    /// The idempotency key to claim (from the publisher's id), if any.
    var claim: String?
    var completion: Router.Completion
}
