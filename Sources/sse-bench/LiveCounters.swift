import NIOConcurrencyHelpers

/// Counts that change while a scenario runs, for the progress line: written by publishers and openers on
/// any thread, read once a second. Deliveries are not here: each event loop counts its own without a lock.
final class LiveCounters: Sendable {
    struct Values: Sendable {
        var opened = 0
        var openFailed = 0
        var published = 0
        var accepted = 0
        var publishFailed = 0
        var skipped = 0
        var connecting = 0
        var connected = 0
        var connectFailed = 0
    }

    private let box = NIOLockedValueBox(Values())

    var values: Values { box.withLockedValue { $0 } }

    func update(_ change: (inout Values) -> Void) {
        box.withLockedValue { change(&$0) }
    }
}
