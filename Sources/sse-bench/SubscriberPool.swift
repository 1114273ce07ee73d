import NIOCore
import NIOHTTP1
import NIOPosix

/// Subscriber streams on a few event loops of this process. Opens them in batches, keeps them open,
/// and sums what their loops' `DeliveryRecorder`s counted.
final class SubscriberPool {
    private let endpoint: StreamEndpoint
    private let group: MultiThreadedEventLoopGroup
    private let recorders: [DeliveryRecorder]
    private var channels: [any Channel] = []

    init(endpoint: StreamEndpoint, threads: Int) {
        self.endpoint = endpoint
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.recorders = group.makeIterator().map { DeliveryRecorder(eventLoop: $0) }
    }

    /// Streams currently held (opened and not closed by this side).
    var openCount: Int { channels.count }

    /// Opens `count` streams, `batch` at a time: each batch must connect and get a 200 response head
    /// within `timeout` seconds before the next one starts. Returns how many opened and failed.
    func open(count: Int, batch: Int, timeout: Int) async -> RampOutcome {
        let started = NIODeadline.now()
        var outcome = RampOutcome()
        var remaining = count
        while remaining > 0 {
            let size = min(batch, remaining)
            remaining -= size
            let attempts = (0..<size).map { _ in openOne(timeout: timeout) }
            for attempt in attempts {
                do {
                    channels.append(try await attempt.get())
                    outcome.opened += 1
                } catch {
                    outcome.failed += 1
                    if outcome.firstError == nil { outcome.firstError = "\(error)" }
                }
            }
        }
        outcome.seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        return outcome
    }

    /// Deliveries counted so far over all streams.
    func deliveryCount() async -> Int {
        var total = 0
        for recorder in recorders {
            total += (try? await recorder.eventLoop.submit { recorder.deliveryCount }.get()) ?? 0
        }
        return total
    }

    /// Everything counted so far over all streams.
    func totals() async -> DeliveryTotals {
        var total = DeliveryTotals()
        for recorder in recorders {
            if let part = try? await recorder.eventLoop.submit({ recorder.totals }).get() {
                total.add(part)
            }
        }
        return total
    }

    /// Closes every stream and stops the event loops.
    func shutdown() async {
        for channel in channels {
            channel.close(promise: nil)
        }
        for channel in channels {
            try? await channel.closeFuture.get()
        }
        channels = []
        try? await group.shutdownGracefully()
    }

    /// One connection whose future succeeds with its channel once the 200 response head arrived.
    private func openOne(timeout: Int) -> EventLoopFuture<any Channel> {
        let loop = group.next()
        let recorder = recorders.first { $0.eventLoop === loop }!
        let opened = loop.makePromise(of: Void.self)
        let timer = loop.scheduleTask(in: .seconds(Int64(timeout))) {
            opened.fail(BenchError.openTimeout(seconds: timeout))
        }
        opened.futureResult.whenComplete { _ in timer.cancel() }
        let request = endpoint.request
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(Int64(timeout)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTPRequestEncoder())
                    try sync.addHandler(SubscriberHandler(request: request, opened: opened, recorder: recorder))
                }
            }
            .connect(to: endpoint.address)
        connected.whenFailure { opened.fail($0) }
        return connected.flatMap { channel in
            opened.futureResult.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }
}
