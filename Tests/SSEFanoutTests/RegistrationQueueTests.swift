import Logging
import NIOConcurrencyHelpers
import Testing

@testable import SSEFanout

@Suite struct RegistrationQueueTests {
    private static func record(_ id: String) -> ConnectionRecord {
        ConnectionRecord(connectionID: id, nodeID: "n1", connectedAt: 0, addresses: ConnectionRecord.addresses(user: "u-\(id)", channels: ["news"]))
    }

    private static func queue(_ registry: RecordingRegistry) -> RegistrationQueue {
        RegistrationQueue(registry: registry, logger: Logger(label: "test-registrations"))
    }

    @Test func writesQueuedDuringABatchGoInTheNextOneInOrder() async {
        let registry = RecordingRegistry(holdsFirstBatch: true)
        let queue = Self.queue(registry)
        let (a, b) = (Self.record("a"), Self.record("b"))
        queue.enqueue(.register(a, joined: [.channel("news")]))
        // The unregistration cannot overtake the registration still under way.
        queue.enqueue(.unregister(a, left: [.channel("news")]))
        queue.enqueue(.register(b, joined: []))
        #expect(registry.batches == [[.register(a, joined: [.channel("news")])]])
        registry.release()
        await queue.drain()
        #expect(registry.batches == [
            [.register(a, joined: [.channel("news")])],
            [.unregister(a, left: [.channel("news")]), .register(b, joined: [])],
        ])
    }

    @Test func eachWriteReportsItsOwnFailureInOrderAfterItsWrite() async {
        let registry = RecordingRegistry(failing: ["b"], holdsFirstBatch: true)
        let queue = Self.queue(registry)
        let reported = NIOLockedValueBox<[(String, String?)]>([])
        queue.enqueue(.register(Self.record("first"), joined: []))
        for id in ["a", "b", "c"] {
            queue.enqueue(.register(Self.record(id), joined: [])) { error in
                #expect(registry.batches.joined().contains(.register(Self.record(id), joined: [])))
                reported.withLockedValue { $0.append((id, (error as? RecordingRegistry.Failure)?.connectionID)) }
            }
        }
        registry.release()
        await queue.drain()
        #expect(registry.batches.map(\.count) == [1, 3])
        let results = reported.withLockedValue { $0 }
        #expect(results.map(\.0) == ["a", "b", "c"])
        #expect(results.map(\.1) == [nil, "b", nil])
    }

    @Test func longQueuesAreSplitIntoBoundedBatches() async {
        let registry = RecordingRegistry(holdsFirstBatch: true)
        let queue = Self.queue(registry)
        let records = (0..<601).map { Self.record("c\($0)") }
        for record in records { queue.enqueue(.register(record, joined: [])) }
        registry.release()
        await queue.drain()
        #expect(registry.batches.map(\.count) == [1, 256, 256, 88])
        #expect(registry.batches.joined().map { write in
            if case .register(let record, _) = write { record.connectionID } else { "" }
        } == records.map(\.connectionID))
    }

    @Test func drainingAnIdleQueueReturnsAtOnce() async {
        let registry = RecordingRegistry()
        let queue = Self.queue(registry)
        await queue.drain()
        #expect(registry.batches.isEmpty)
    }

    @Test func runEndsAfterFinishOnceQueuedWritesAreApplied() async {
        let registry = RecordingRegistry(holdsFirstBatch: true)
        let queue = Self.queue(registry)
        let ended = NIOLockedValueBox(false)
        queue.enqueue(.register(Self.record("a"), joined: []))
        let runner = Task {
            await queue.run()
            ended.withLockedValue { $0 = true }
        }
        queue.finish()
        queue.enqueue(.register(Self.record("late"), joined: []))
        try? await Task.sleep(for: .milliseconds(50))
        #expect(!ended.withLockedValue { $0 })
        registry.release()
        await runner.value
        #expect(registry.batches == [[.register(Self.record("a"), joined: [])]])
    }

    @Test func cancellingTheRunEndsIt() async {
        let queue = Self.queue(RecordingRegistry())
        let runner = Task { await queue.run() }
        runner.cancel()
        await runner.value
    }
}
