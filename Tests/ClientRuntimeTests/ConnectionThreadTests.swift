import ClientRuntime
import Foundation
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("ConnectionThread and SignalingQueue")
struct ConnectionThreadTests {
    @Test(.timeLimit(.minutes(1)))
    func theThreadTakesWorkInOrderUntilStopped() async {
        let thread = ConnectionThread<Int>()
        let taken = NIOLockedValueBox<[Int]>([])
        let finished = NIOLockedValueBox(false)
        thread.start { queue in
            while case let work = queue.takeAll(), !work.isEmpty {
                taken.withLockedValue { $0 += work }
            }
            finished.withLockedValue { $0 = true }
        }
        for value in 1...1000 { #expect(thread.queue.append(value)) }
        await thread.stop()
        #expect(finished.withLockedValue { $0 })
        #expect(taken.withLockedValue { $0 } == Array(1...1000))
        // Closed: later work is refused, so its sender can fail it at once.
        #expect(!thread.queue.append(1001))
        await thread.stop()  // again: nothing to do
    }

    @Test func stoppedBeforeItStartedItNeverRuns() async {
        let thread = ConnectionThread<Int>()
        await thread.stop()
        let ran = NIOLockedValueBox(false)
        thread.start { _ in ran.withLockedValue { $0 = true } }
        await thread.stop()
        #expect(!ran.withLockedValue { $0 })
    }

    @Test(.timeLimit(.minutes(1)))
    func aThreadWhoseQueueClosesEndsWithoutAnyoneWaiting() async throws {
        var thread: ConnectionThread<Int>? = ConnectionThread()
        thread?.start { queue in
            while !queue.takeAll().isEmpty {}
        }
        weak let running = thread
        thread?.queue.close()
        thread = nil
        // The running thread keeps its object alive until it has ended; bounded wait.
        for _ in 0..<500 where running != nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(running == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func takeAllWaitsForWorkOrItsTimeout() {
        let queue = SignalingQueue<Int>()
        let clock = ContinuousClock()
        var start = clock.now
        #expect(queue.takeAll(waitingAtMost: .milliseconds(50)).isEmpty)
        #expect(clock.now - start >= .milliseconds(50))

        queue.append(1)
        queue.append(2)
        start = clock.now
        #expect(queue.takeAll(waitingAtMost: .seconds(10)) == [1, 2])
        #expect(clock.now - start < .seconds(5))

        Self.afterAMoment { queue.append(3) }
        start = clock.now
        #expect(queue.takeAll(waitingAtMost: .seconds(10)) == [3])
        #expect(clock.now - start < .seconds(5))

        queue.close()
        #expect(queue.takeAll().isEmpty)
        #expect(queue.takeAll(waitingAtMost: .seconds(10)).isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func elementsQueuedBeforeCloseCanStillBeTaken() {
        let queue = SignalingQueue<Int>()
        queue.append(1)
        queue.close()
        #expect(queue.isClosed)
        #expect(!queue.append(2))
        #expect(queue.takeAll() == [1])
        #expect(queue.takeAll().isEmpty)
    }

    /// A publisher awaiting confirms polls its socket and the queue at once: an append wakes it
    /// through the queue's pipe long before the poll's timeout.
    @Test(.timeLimit(.minutes(1)))
    func anAppendWakesAnOwnerPollingASocket() {
        let queue = SignalingQueue<Int>()
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { for end in ends { close(end) } }
        let clock = ContinuousClock()

        var start = clock.now
        queue.waitForElements(orReadable: ends[0], atMost: .milliseconds(50))
        #expect(clock.now - start >= .milliseconds(50))

        Self.afterAMoment { queue.append(1) }
        start = clock.now
        queue.waitForElements(orReadable: ends[0], atMost: .seconds(10))
        #expect(clock.now - start < .seconds(5))
        #expect(queue.takeAll(waitingAtMost: .zero) == [1])

        // Readable socket: returns at once, taking nothing.
        var byte: UInt8 = 1
        #expect(write(ends[1], &byte, 1) == 1)
        start = clock.now
        queue.waitForElements(orReadable: ends[0], atMost: .seconds(10))
        #expect(clock.now - start < .seconds(5))
    }

    /// Runs `body` 50 ms from now on a thread of its own: the test's thread is blocked in the queue
    /// meanwhile, and the cooperative pool may have no other thread free.
    private static func afterAMoment(_ body: @escaping @Sendable () -> Void) {
        Thread.detachNewThread {
            usleep(50_000)
            body()
        }
    }
}
