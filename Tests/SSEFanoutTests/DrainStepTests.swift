import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

@testable import SSEFanout

/// The node's drain is its service group shutting its services down one at a time, last first: a
/// step begins only once the step after it in the list has ended.
@Suite struct DrainStepTests {
    @Test func stepsRunOneAtATimeInTheReverseOfTheirOrder() async throws {
        let log = NIOLockedValueBox<[String]>([])
        let steps = ["first", "second", "third"].map { name in
            DrainStep(name) {
                log.withLockedValue { $0.append("\(name) begins") }
                try? await Task.sleep(for: .milliseconds(20))
                log.withLockedValue { $0.append("\(name) ends") }
            }
        }
        let group = ServiceGroup(services: steps, logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(log.withLockedValue { $0 }.isEmpty, "nothing is taken before the shutdown")
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(log.withLockedValue { $0 } == ["third begins", "third ends", "second begins", "second ends", "first begins", "first ends"])
    }

    @Test func aCancelledStepIsNotTaken() async {
        let taken = NIOLockedValueBox(false)
        let step = DrainStep("step") { taken.withLockedValue { $0 = true } }
        let running = Task { await step.run() }
        running.cancel()
        await running.value
        #expect(!taken.withLockedValue { $0 })
    }
}
