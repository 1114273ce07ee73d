import NIOCore
import NIOHTTP1
import NIOPosix

/// Subscriber streams on a few event loops of this process. Opens them in batches, keeps them open,
/// and sums what their loops' `DeliveryRecorder`s counted.
final class SubscriberPool: DeliverySource, @unchecked Sendable {
    private let endpoint: StreamEndpoint
    private let opening: StreamOpening
    private let counters: LiveCounters
    private let group: MultiThreadedEventLoopGroup
    private let recorders: [DeliveryRecorder]
    private(set) var streams: [OpenedStream] = []
    private var nextIndex = 0

    /// With `awaitConnected`, a stream counts as open at sse-fanout's `connected` event rather than at the
    /// response head; with `readGreeting`, its connection id is kept too (for connection-addressed publishes).
    init(endpoint: StreamEndpoint, threads: Int, awaitConnected: Bool = false, readGreeting: Bool = false, counters: LiveCounters) {
        self.endpoint = endpoint
        self.opening = StreamOpening(awaitConnected: awaitConnected, readGreeting: readGreeting)
        self.counters = counters
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.recorders = group.makeIterator().map { DeliveryRecorder(eventLoop: $0) }
    }

    /// Streams currently held (opened and not closed by this side).
    var openCount: Int { streams.count }

    var deliveryProbe: DeliveryProbe { DeliveryProbe(recorders: recorders) }

    /// Opens `count` streams, `batch` at a time: each batch must connect and open within `timeout`
    /// seconds before the next one starts. Returns how many opened and failed.
    func open(count: Int, batch: Int, timeout: Int) async -> RampOutcome {
        let started = NIODeadline.now()
        var outcome = RampOutcome()
        var remaining = count
        while remaining > 0 {
            let size = min(batch, remaining)
            remaining -= size
            let attempts = (0..<size).map { _ in
                defer { nextIndex += 1 }
                return (nextIndex, openOne(index: nextIndex, timeout: timeout))
            }
            for (index, attempt) in attempts {
                do {
                    let (channel, greeting) = try await attempt.get()
                    streams.append(OpenedStream(channel: channel, index: index, greeting: greeting))
                    outcome.opened += 1
                    counters.update { $0.opened += 1 }
                } catch {
                    outcome.failed += 1
                    counters.update { $0.openFailed += 1 }
                    if outcome.firstError == nil { outcome.firstError = "\(error)" }
                }
            }
        }
        outcome.seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        return outcome
    }

    /// Deliveries counted so far over all streams.
    func deliveryCount() async -> Int {
        await deliveryProbe.count()
    }

    /// Everything counted so far over all streams.
    func totals() async -> DeliveryTotals {
        var total = DeliveryTotals()
        for recorder in recorders {
            if let part = try? await recorder.eventLoop.submit({ recorder.snapshot }).get() {
                total.add(part)
            }
        }
        return total
    }

    /// Closes every stream and stops the event loops.
    func shutdown() async {
        for stream in streams {
            stream.channel.close(promise: nil)
        }
        for stream in streams {
            try? await stream.channel.closeFuture.get()
        }
        streams = []
        try? await group.shutdownGracefully()
    }

    /// One connection whose future succeeds with its channel once the stream is open.
    private func openOne(index: Int, timeout: Int) -> EventLoopFuture<(any Channel, StreamGreeting?)> {
        let loop = group.next()
        let recorder = recorders.first { $0.eventLoop === loop }!
        let opened = loop.makePromise(of: StreamGreeting?.self)
        let timer = loop.scheduleTask(in: .seconds(Int64(timeout))) {
            opened.fail(BenchError.openTimeout(seconds: timeout))
        }
        opened.futureResult.whenComplete { _ in timer.cancel() }
        let request = endpoint.request(index: index)
        let opening = self.opening
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(Int64(timeout)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTPRequestEncoder())
                    try sync.addHandler(SubscriberHandler(request: request, opening: opening, opened: opened, recorder: recorder))
                }
            }
            .connect(to: endpoint.address)
        connected.whenFailure { opened.fail($0) }
        return connected.flatMap { channel in
            opened.futureResult.map { (channel, $0) }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }
}
