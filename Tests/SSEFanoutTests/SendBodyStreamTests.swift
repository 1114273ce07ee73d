import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import SSEFanout

/// A forwarded body's backpressure: the connection stops reading while the backend takes nothing and
/// reads again once it took some, and a failed body never reaches its end.
@Suite(.timeLimit(.minutes(1))) struct SendBodyStreamTests {
    /// The reads a stream turned off and on, in order, and a way to await the next change.
    final class Reads: Sendable {
        let changes = NIOLockedValueBox<[Bool]>([])
        let updates: AsyncStream<Bool>
        private let continuation: AsyncStream<Bool>.Continuation

        init() {
            (updates, continuation) = AsyncStream<Bool>.makeStream()
        }

        func note(_ reading: Bool) {
            changes.withLockedValue { $0.append(reading) }
            continuation.yield(reading)
        }
    }

    private let eventLoop = MultiThreadedEventLoopGroup.singleton.next()

    /// A stream on the loop, and what the backend would read.
    private func makeStream(_ reads: Reads) async throws -> (NIOLoopBound<SendBodyStream>, SendBodyStream.Bytes) {
        try await eventLoop.submit { [eventLoop] in
            let stream = SendBodyStream(eventLoop: eventLoop, pauseReads: { reads.note(false) }, resumeReads: { reads.note(true) })
            return (NIOLoopBound(stream, eventLoop: eventLoop), stream.bytes)
        }.get()
    }

    private func onLoop(_ work: @escaping @Sendable () -> Void) async throws {
        try await eventLoop.submit(work).get()
    }

    private func piece(_ byte: UInt8) -> ByteBuffer { ByteBuffer(bytes: [UInt8](repeating: byte, count: 16)) }

    @Test func readsStopAtTheHighWatermarkAndResumeOnceTheBackendTookSome() async throws {
        let reads = Reads()
        let (bound, bytes) = try await makeStream(reads)
        try await onLoop {
            for byte in 0..<UInt8(SendBodyStream.highWatermark) { bound.value.write(piece(byte)) }
        }
        // Nothing has been taken: the connection stopped reading when the last piece filled the buffer.
        #expect(reads.changes.withLockedValue { $0 } == [false])

        var iterator = bytes.makeAsyncIterator()
        var updates = reads.updates.makeAsyncIterator()
        _ = await updates.next()
        for expected in 0..<UInt8(SendBodyStream.highWatermark - SendBodyStream.lowWatermark + 1) {
            #expect(try await iterator.next()?.readableBytesView.first == expected)
        }
        // Below the low watermark the backend wants more: reading resumes.
        #expect(await updates.next() == true)

        try await onLoop { bound.value.finish() }
        var rest = 0
        while try await iterator.next() != nil { rest += 1 }
        #expect(rest == SendBodyStream.lowWatermark - 1)
    }

    @Test func aFailedBodyEndsWithItsErrorAndTheConnectionStopsReading() async throws {
        struct Refused: Error {}
        let reads = Reads()
        let (bound, bytes) = try await makeStream(reads)
        try await onLoop {
            bound.value.write(piece(1))
            bound.value.fail(Refused(), readOn: false)
            // Pieces after a failure go nowhere.
            bound.value.write(piece(2))
        }
        var iterator = bytes.makeAsyncIterator()
        #expect(try await iterator.next()?.readableBytesView.first == 1)
        await #expect(throws: Refused.self) { _ = try await iterator.next() }
        // The backend's demand no longer turns reading back on.
        try await onLoop {}
        #expect(reads.changes.withLockedValue { $0 } == [false])
    }

    @Test func aBodyDroppedAfterAnEarlyAnswerIsReadOn() async throws {
        let reads = Reads()
        let (bound, _) = try await makeStream(reads)
        try await onLoop { bound.value.fail(CancellationError(), readOn: true) }
        #expect(reads.changes.withLockedValue { $0 } == [true])
    }
}
