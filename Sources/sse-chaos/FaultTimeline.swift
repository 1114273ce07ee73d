import Logging
import NIOConcurrencyHelpers

/// What the scenario did and when, in seconds since publishing started: printed with the results so a
/// reader can line up losses with faults.
final class FaultTimeline: Sendable {
    struct Entry: Sendable, Encodable {
        var at: Double
        var what: String
    }

    private let clock: ScenarioClock
    private let logger: Logger
    private let entries = NIOLockedValueBox<[Entry]>([])

    init(clock: ScenarioClock, logger: Logger) {
        self.clock = clock
        self.logger = logger
    }

    func record(_ what: String) {
        let entry = Entry(at: (clock.elapsedSeconds * 10).rounded() / 10, what: what)
        entries.withLockedValue { $0.append(entry) }
        logger.info("t=\(entry.at)s \(what)")
    }

    var all: [Entry] { entries.withLockedValue { $0 } }
}
