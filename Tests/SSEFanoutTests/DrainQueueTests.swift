import Dispatch
import NIOConcurrencyHelpers
import Synchronization
import Testing

@testable import SSEFanout

@Suite struct DrainQueueTests {
    @Test func onlyTheFirstAppendBooksTheTurn() {
        var queue = DrainQueue<Int>()
        #expect(!queue.isTurnBooked)
        let booked = [queue.append(1), queue.append(2), queue.append(contentsOf: [3, 4])]
        #expect(booked == [true, false, false])
        #expect(queue.isTurnBooked)
        #expect(queue.count == 4)
    }

    @Test func aTurnThatIsOneTakeEndsWithIt() {
        var queue = DrainQueue<Int>()
        let booked = [queue.append(1), queue.append(2)]
        let taken = queue.takeAll()
        #expect(booked == [true, false])
        #expect(taken == [1, 2])
        #expect(!queue.isTurnBooked)
        let bookedAgain = queue.append(3)
        #expect(bookedAgain)
    }

    @Test func aTurnOfBatchesEndsOnlyWhenTheDrainerFindsNothing() {
        var queue = DrainQueue<Int>()
        let booked = queue.append(contentsOf: 1...5)
        let first = queue.next(limit: 2)
        // Appended while the drainer works: its turn goes on, nobody else starts one.
        let bookedMeanwhile = queue.append(6)
        let second = queue.next(limit: 2)
        let third = queue.next(limit: 10)
        #expect(booked && !bookedMeanwhile)
        #expect([first, second, third] == [[1, 2], [3, 4], [5, 6]])
        #expect(queue.isTurnBooked)
        let last = queue.next(limit: 2)
        #expect(last == nil)
        #expect(!queue.isTurnBooked)
        let bookedAgain = queue.append(7)
        #expect(bookedAgain)
    }

    @Test func aDrainerMayEndItsTurnOnlyWhenNothingWaits() {
        var queue = DrainQueue<Int>()
        _ = queue.append(1)
        let endedWithItemsLeft = queue.endTurnIfEmpty()
        let taken = queue.take()
        #expect(!endedWithItemsLeft)
        #expect(taken == [1])
        #expect(queue.isTurnBooked)
        let ended = queue.endTurnIfEmpty()
        #expect(ended)
        #expect(!queue.isTurnBooked)
        _ = queue.append(2)
        queue.removeOldest()
        #expect(queue.isEmpty)
    }

    /// Many threads append at once; each drainer is started by an append that booked a turn, and runs
    /// until it finds nothing. Every item is drained once, in each thread's order, and never by two
    /// drainers at the same time.
    @Test func concurrentAppendsAreDrainedOnceByOneDrainerAtATime() {
        let threads = 8
        let perThread = 2000
        let harness = Harness()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for item in 0..<perThread {
                // Not a task: the drainer runs right here, as the router's and the registry's do.
                if harness.queue.withLockedValue({ $0.append((thread, item)) }) { harness.drain() }
            }
        }
        let overlapped = harness.overlapped.load(ordering: .relaxed)
        #expect(!overlapped)
        let all = harness.drained.withLockedValue { $0 }
        #expect(all.count == threads * perThread)
        for thread in 0..<threads {
            #expect(all.filter { $0.thread == thread }.map(\.item) == Array(0..<perThread))
        }
        #expect(harness.queue.withLockedValue { !$0.isTurnBooked && $0.isEmpty })
    }

    private final class Harness: Sendable {
        let queue = NIOLockedValueBox(DrainQueue<(thread: Int, item: Int)>())
        let drained = NIOLockedValueBox<[(thread: Int, item: Int)]>([])
        let drainers = Atomic(0)
        let overlapped = Atomic(false)

        func drain() {
            while let batch = queue.withLockedValue({ $0.next(limit: 7) }) {
                if drainers.add(1, ordering: .sequentiallyConsistent).newValue > 1 { overlapped.store(true, ordering: .relaxed) }
                drained.withLockedValue { $0 += batch }
                drainers.subtract(1, ordering: .sequentiallyConsistent)
            }
        }
    }
}
