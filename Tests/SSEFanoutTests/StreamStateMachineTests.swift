import NIOConcurrencyHelpers
import Testing

@testable import SSEFanout

/// A stream's life without a socket: what each transition decides.
@Suite struct StreamStateMachineTests {
    private func event(_ n: Int, bytes: Int = 10) -> OutboundEvent {
        OutboundEvent(Publication(target: .user("alice"), data: .text(String(repeating: "x", count: bytes)), id: "e\(n)"))
    }

    private func page(_ events: [OutboundEvent], _ outcome: NIOLockedValueBox<[Bool]>) -> StreamStateMachine.ReplayPage {
        .init(events: events[...], written: { done in outcome.withLockedValue { $0.append(done) } })
    }

    @Test func eventsAreHeldWhileOpeningAndSentOnceLive() throws {
        var machine = StreamStateMachine(maxHeldBytes: 1000)
        guard case .held = machine.enqueue(event(1)) else { Issue.record("not held while opening"); return }
        guard case .held = machine.enqueue(event(2)) else { Issue.record("not held while opening"); return }
        #expect(machine.control() == .drop, "nothing before connected")
        #expect(machine.flush(hasOutbox: true, isWritable: true) == .none)
        let r1 = machine.activate()
        let held = try #require(r1)
        #expect(held.map(\.eventKey) == [event(1), event(2)].map(\.eventKey))
        guard case .send = machine.enqueue(event(3)) else { Issue.record("not sent live"); return }
        #expect(machine.flush(hasOutbox: true, isWritable: true) == .write)
        #expect(machine.flush(hasOutbox: true, isWritable: false) == .closeSlowClient)
        #expect(machine.flush(hasOutbox: false, isWritable: false) == .none)
        let r2 = machine.activate()
        #expect(r2 == nil, "only an opening stream activates")
    }

    @Test func holdingMoreThanTheBoundClosesASlowClient() {
        var machine = StreamStateMachine(maxHeldBytes: 100)
        guard case .held = machine.enqueue(event(1, bytes: 200)) else { Issue.record("one event is always held"); return }
        guard case .closeSlowClient(let count) = machine.enqueue(event(2, bytes: 10)) else { Issue.record("held past the bound"); return }
        #expect(count == 1)
    }

    @Test func aReplayGoesPageByPageThenLive() throws {
        var machine = StreamStateMachine(maxHeldBytes: 1000)
        let r3 = machine.beginReplay()
        #expect(r3)
        let r4 = machine.beginReplay()
        #expect(!r4, "a replay begins once")
        #expect(machine.control() == .appendAndWrite)
        guard case .held = machine.enqueue(event(9)) else { Issue.record("live events wait for the replay"); return }
        let outcome = NIOLockedValueBox<[Bool]>([])
        let started = machine.startPage(page([event(1), event(2)], outcome))
        #expect(started)
        let second = machine.startPage(page([event(3)], outcome))
        #expect(!second, "one page at a time")
        let r5 = machine.takePage()
        var taken = try #require(r5)
        let r6 = machine.takePage()
        #expect(r6 == nil, "taken out while written")
        _ = taken.events.popFirst()
        let r7 = machine.park(taken)
        #expect(r7, "what the channel did not take waits")
        let r8 = machine.takePage()
        #expect(r8?.events.count == 1)
        let r9 = machine.finishReplay()
        let held = try #require(r9)
        #expect(held.map(\.eventKey) == [event(9).eventKey])
        #expect(machine.control() == .appendAndFlush)
    }

    @Test func aReplayStuckOnAClientThatReadsNothingIsClosedOnTheSecondBeat() {
        var machine = StreamStateMachine(maxHeldBytes: 1000)
        _ = machine.beginReplay()
        let outcome = NIOLockedValueBox<[Bool]>([])
        _ = machine.startPage(page([event(1)], outcome))
        let r10 = machine.heartbeat(isWritable: true)
        #expect(r10 == .none, "a client that reads is not stuck")
        let r11 = machine.heartbeat(isWritable: false)
        #expect(r11 == .none)
        machine.clientRead()
        let r12 = machine.heartbeat(isWritable: false)
        #expect(r12 == .none, "reading starts the count again")
        let r13 = machine.heartbeat(isWritable: false)
        #expect(r13 == .closeSlowClient)
    }

    @Test func closingTellsAWaitingPageAndHappensOnce() {
        var machine = StreamStateMachine(maxHeldBytes: 1000)
        _ = machine.beginReplay()
        let outcome = NIOLockedValueBox<[Bool]>([])
        _ = machine.startPage(page([event(1)], outcome))
        guard case .close(let flushFirst, let waiting) = machine.close(.kicked) else { Issue.record("not closed"); return }
        #expect(!flushFirst && waiting != nil)
        #expect(machine.closeReason == .kicked && !machine.isOpen)
        guard case .none = machine.close(nil) else { Issue.record("closed twice"); return }
        #expect(machine.closeReason == .kicked, "the server's reason stays")
        guard case .drop = machine.enqueue(event(2)) else { Issue.record("sent after close"); return }
        let r14 = machine.heartbeat(isWritable: true)
        #expect(r14 == .none)
        let r15 = machine.finishReplay()
        #expect(r15 == nil)
    }

    @Test func aStreamClosedBeforeConnectedFlushesItsHeadFirst() {
        var machine = StreamStateMachine(maxHeldBytes: 1000)
        guard case .close(let flushFirst, _) = machine.close(.expired) else { Issue.record("not closed"); return }
        #expect(flushFirst)
        var gone = StreamStateMachine(maxHeldBytes: 1000)
        _ = gone.activate()
        guard case .close(false, .none) = gone.close(nil) else { Issue.record("a client that went away"); return }
        #expect(gone.closeReason == nil && !gone.isOpen)
    }
}
