import ClientRuntime
import NIOConcurrencyHelpers
import Testing

@Suite("OneShot")
struct OneShotTests {
    private struct Failure: Error, Equatable {}

    @Test func onlyTheFirstResultCounts() async throws {
        let shot = OneShot<Int, Failure>()
        #expect(shot.complete(.success(1)))
        #expect(!shot.complete(.success(2)))
        #expect(!shot.complete(.failure(Failure())))
        #expect(try await shot.value == 1)
        #expect(try await shot.value == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func earlyWaitersAreAllWokenWithTheResult() async throws {
        let shot = OneShot<String, Failure>()
        let called = NIOLockedValueBox<[String]>([])
        shot.whenComplete { result in called.withLockedValue { $0.append(try! result.get() + " 1") } }
        shot.whenComplete { result in called.withLockedValue { $0.append(try! result.get() + " 2") } }
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<3 { group.addTask { try await shot.value } }
            try await Task.sleep(for: .milliseconds(50))
            #expect(called.withLockedValue { $0 }.isEmpty)
            shot.complete(.success("done"))
            for try await value in group { #expect(value == "done") }
        }
        // Callbacks ran once each, in the order they were given.
        #expect(called.withLockedValue { $0 } == ["done 1", "done 2"])
    }

    @Test func lateWaitersGetTheResultAtOnce() async {
        let shot = OneShot<Int, Failure>()
        shot.complete(.failure(Failure()))
        let called = NIOLockedValueBox(0)
        shot.whenComplete { result in
            if case .failure = result { called.withLockedValue { $0 += 1 } }
        }
        #expect(called.withLockedValue { $0 } == 1)
        await #expect(throws: Failure()) { try await shot.value }
        #expect(await shot.result == .failure(Failure()))
    }

    @Test func aCallbackMayTouchTheShotAgain() async {
        let shot = OneShot<Int, Never>()
        let seen = NIOLockedValueBox<[Int]>([])
        shot.whenComplete { first in
            // Inside the completion: the result is already there, and no lock is held.
            shot.whenComplete { second in seen.withLockedValue { $0 = [first.get(), second.get()] } }
        }
        shot.complete(.success(7))
        #expect(seen.withLockedValue { $0 } == [7, 7])
    }
}
