import Logging
import NIOConcurrencyHelpers
import Testing

@testable import SSEFanout

@Suite struct RegistrationQueueTests {
    private static func record(_ id: String) -> ConnectionRecord {
        ConnectionRecord(connectionID: id, nodeID: "n1", user: "u-\(id)", clientID: nil, channels: ["news"], connectedAt: 0)
    }

    private static func queue(_ registry: RecordingRegistry) -> (RegistrationQueue, Task<Void, Never>) {
        let queue = RegistrationQueue(registry: registry, logger: Logger(label: "test-registrations"))
        return (queue, Task { await queue.run() })
    }

    @Test func writesQueuedMeanwhileGoInOneBatchInOrder() async {
        let registry = RecordingRegistry()
        let queue = RegistrationQueue(registry: registry, logger: Logger(label: "test-registrations"))
        let (a, b) = (Self.record("a"), Self.record("b"))
        queue.enqueue(.register(a, joinedChannels: ["news"]))
        queue.enqueue(.register(b, joinedChannels: []))
        queue.enqueue(.unregister(a, leftChannels: []))
        let runner = Task { await queue.run() }
        await queue.drain()
        #expect(registry.batches == [[.register(a, joinedChannels: ["news"]), .register(b, joinedChannels: []), .unregister(a, leftChannels: [])]])
        queue.finish()
        await runner.value
    }

    @Test func eachWriteReportsItsOwnFailureInOrder() async {
        let registry = RecordingRegistry(failing: ["b"])
        let queue = RegistrationQueue(registry: registry, logger: Logger(label: "test-registrations"))
        let reported = NIOLockedValueBox<[(String, String?)]>([])
        for id in ["a", "b", "c"] {
            queue.enqueue(.register(Self.record(id), joinedChannels: [])) { error in
                // Each item's `done` runs after its write.
                #expect(registry.batches.joined().contains(.register(Self.record(id), joinedChannels: [])))
                reported.withLockedValue { $0.append((id, (error as? RecordingRegistry.Failure)?.connectionID)) }
            }
        }
        let runner = Task { await queue.run() }
        await queue.drain()
        let results = reported.withLockedValue { $0 }
        #expect(results.map(\.0) == ["a", "b", "c"])
        #expect(results.map(\.1) == [nil, "b", nil])
        queue.finish()
        await runner.value
    }

    @Test func writesEnqueuedDuringABatchFollowItInTheNextOne() async {
        let registry = RecordingRegistry(holdsFirstBatch: true)
        let (queue, runner) = Self.queue(registry)
        let (a, b) = (Self.record("a"), Self.record("b"))
        queue.enqueue(.register(a, joinedChannels: []))
        for await _ in registry.firstBatchArrived { break }
        // The unregistration cannot overtake the registration still under way.
        queue.enqueue(.unregister(a, leftChannels: []))
        queue.enqueue(.register(b, joinedChannels: []))
        let drained = Task { await queue.drain() }
        registry.release()
        await drained.value
        #expect(registry.batches == [[.register(a, joinedChannels: [])], [.unregister(a, leftChannels: []), .register(b, joinedChannels: [])]])
        queue.finish()
        await runner.value
    }

    @Test func longQueuesAreSplitIntoBoundedBatches() async {
        let registry = RecordingRegistry()
        let queue = RegistrationQueue(registry: registry, logger: Logger(label: "test-registrations"))
        let records = (0..<600).map { Self.record("c\($0)") }
        for record in records { queue.enqueue(.register(record, joinedChannels: [])) }
        let runner = Task { await queue.run() }
        await queue.drain()
        #expect(registry.batches.map(\.count) == [256, 256, 88])
        #expect(registry.batches.joined().map { write in
            if case .register(let record, _) = write { record.connectionID } else { "" }
        } == records.map(\.connectionID))
        queue.finish()
        await runner.value
    }

    @Test func finishEndsTheRunOnceQueuedWritesAreApplied() async {
        let registry = RecordingRegistry()
        let queue = RegistrationQueue(registry: registry, logger: Logger(label: "test-registrations"))
        queue.enqueue(.register(Self.record("a"), joinedChannels: []))
        queue.finish()
        queue.enqueue(.register(Self.record("late"), joinedChannels: []))
        await queue.run()
        #expect(registry.batches == [[.register(Self.record("a"), joinedChannels: [])]])
    }

    @Test func cancellingTheRunEndsIt() async {
        let (queue, runner) = Self.queue(RecordingRegistry())
        await queue.drain()
        runner.cancel()
        await runner.value
    }
}
