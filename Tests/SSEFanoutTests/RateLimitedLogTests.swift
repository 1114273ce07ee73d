import Logging
import NIOCore
import Testing

@testable import SSEFanout

/// A warning due on every refused client is logged once per interval, saying how often it was due.
@Suite struct RateLimitedLogTests {
    @Test func oneLinePerIntervalCountingTheOnesLeftOut() async throws {
        let lines = LoggedLines()
        let logger = Logger(label: "test") { _ in lines }
        let log = RateLimitedLog(interval: .milliseconds(200))
        for _ in 0..<5 { log.note("limit reached", logger: logger) }
        #expect(lines.all == ["limit reached"])
        try await Task.sleep(for: .milliseconds(250))  // the interval under test
        log.note("limit reached", logger: logger)
        #expect(lines.all == ["limit reached", "limit reached since_last_line=4"])
    }

    @Test func eachKindOfLimitHasItsOwnLine() {
        let lines = LoggedLines()
        let logger = Logger(label: "test") { _ in lines }
        let logs = LimitLogs()
        logs.nodeFull.note("node full", logger: logger)
        logs.addressLimit.note("address", logger: logger)
        logs.userLimit.note("user", logger: logger)
        logs.acceptFailure.note("accept", logger: logger)
        logs.nodeFull.note("node full", logger: logger)
        #expect(lines.all == ["node full", "address", "user", "accept"])
    }
}
