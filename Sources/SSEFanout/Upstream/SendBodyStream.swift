import NIOCore

/// A send's or upload's body on its way from the browser's connection to the backend while it arrives:
/// the connection writes each piece, async-http-client reads `bytes`. While the backend takes nothing
/// (not yet connected, or slower than the browser) the connection stops reading, so what one request
/// has in flight is a few socket reads, never its body. Lives on the connection's event loop.
final class SendBodyStream {
    typealias Bytes = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Demand
    >

    /// Pieces waiting for the backend before the connection stops reading (each one socket read, at most
    /// 64 KiB), and how few let it read again.
    static let highWatermark = 4
    static let lowWatermark = 2

    /// Turns the connection's reads back on when the backend wants more, or stops reading the body at all;
    /// called from async-http-client's side, so it hops to the connection's loop.
    struct Demand: NIOAsyncSequenceProducerDelegate {
        let resume: @Sendable () -> Void

        func produceMore() { resume() }
        func didTerminate() { resume() }
    }

    let bytes: Bytes
    private let source: Bytes.Source
    private let pauseReads: () -> Void
    private let resumeReads: () -> Void
    /// Whether the body is still arriving: once it ended or failed, the backend's demand no longer
    /// decides whether the connection reads.
    private let isOpen: NIOLoopBoundBox<Bool>

    /// The body of a request on `channel`, which stops and resumes reading with the backend's demand.
    convenience init(channel: any Channel) {
        self.init(
            eventLoop: channel.eventLoop, pauseReads: { try? channel.syncOptions?.setOption(.autoRead, value: false) },
            resumeReads: { try? channel.syncOptions?.setOption(.autoRead, value: true) })
    }

    /// `pauseReads` and `resumeReads` run on `eventLoop`.
    init(eventLoop: any EventLoop, pauseReads: @escaping () -> Void, resumeReads: @escaping () -> Void) {
        let isOpen = NIOLoopBoundBox(true, eventLoop: eventLoop)
        let resume = NIOLoopBound(resumeReads, eventLoop: eventLoop)
        let demand = Demand {
            eventLoop.execute {
                if isOpen.value { resume.value() }
            }
        }
        let made = Bytes.makeSequence(
            backPressureStrategy: .init(lowWatermark: Self.lowWatermark, highWatermark: Self.highWatermark), finishOnDeinit: true, delegate: demand)
        self.bytes = made.sequence
        self.source = made.source
        self.pauseReads = pauseReads
        self.resumeReads = resumeReads
        self.isOpen = isOpen
    }

    /// Passes a piece on; past the high watermark the connection stops reading until the backend took some.
    func write(_ piece: ByteBuffer) {
        guard isOpen.value else { return }
        if source.yield(piece) == .stopProducing { pauseReads() }
    }

    /// The body ended: the backend gets its end once it took the rest, and the connection reads on (what
    /// comes next is the next request's).
    func finish() {
        guard isOpen.value else { return }
        isOpen.value = false
        source.finish()
        resumeReads()
    }

    /// Aborts the backend's request (it never sees the body's end). The connection does not read on:
    /// `readOn` says whether it should (to read and drop the rest of the body), or the caller closes it.
    func fail(_ error: any Error, readOn: Bool) {
        if isOpen.value {
            isOpen.value = false
            source.finish(error)
        }
        if readOn { resumeReads() } else { pauseReads() }
    }
}
