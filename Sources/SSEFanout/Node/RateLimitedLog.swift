import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A warning that may be due thousands of times a second (a limit hit by every new client) is logged
/// at most once per `interval`, with how many times it happened meanwhile.
final class RateLimitedLog: Sendable {
    private let interval: TimeAmount
    private let state = NIOLockedValueBox((last: NIODeadline?.none, suppressed: 0))

    init(interval: TimeAmount = .seconds(10)) {
        self.interval = interval
    }

    func note(_ message: Logger.Message, logger: Logger, metadata: Logger.Metadata = [:]) {
        let now = NIODeadline.now()
        let suppressed = state.withLockedValue { state -> Int? in
            if let last = state.last, now - last < interval {
                state.suppressed += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.suppressed
        }
        guard let suppressed else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["since_last_line"] = "\(suppressed)" }
        logger.warning(message, metadata: metadata)
    }
}
