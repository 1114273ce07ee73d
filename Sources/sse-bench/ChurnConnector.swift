#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix

/// Opens churn connections on a few event loops of this process, each from the next of `sources` (local
/// addresses in 127.0.0.0/8, so that TIME_WAIT sockets of closed connections spread over more
/// address-and-port pairs), and records on each loop how long each took to its `connected` event.
final class ChurnConnector: Sendable {
    /// IP_BIND_ADDRESS_NO_PORT (linux/in.h), which Glibc's module does not export.
    private static let bindAddressNoPort: CInt = 24

    private let endpoint: StreamEndpoint
    private let closeMode: ChurnCloseMode
    private let timeout: TimeAmount
    private let sources: [SocketAddress]
    private let group: MultiThreadedEventLoopGroup
    let recorders: [ChurnRecorder]

    init(endpoint: StreamEndpoint, threads: Int, sources: [SocketAddress], closeMode: ChurnCloseMode, timeout: TimeAmount) {
        self.endpoint = endpoint
        self.closeMode = closeMode
        self.timeout = timeout
        self.sources = sources
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.recorders = group.makeIterator().map { ChurnRecorder(eventLoop: $0) }
    }

    /// Opens connection `index` (from source address `index` mod their count), as user `<prefix><user>`
    /// when the endpoint names users, or with connection `index`'s token when it has tokens; the future
    /// succeeds once it is recorded and closed by this side: true if it got `connected`, false if it failed.
    func connect(index: Int, user: Int?) -> EventLoopFuture<Bool> {
        let loop = group.next()
        let recorder = recorders.first { $0.eventLoop === loop }!
        let startedAt = NIODeadline.now().uptimeNanoseconds
        let done = loop.makePromise(of: UInt64.self)
        let timer = loop.scheduleTask(in: timeout) {
            done.fail(BenchError.openTimeout(seconds: Int(self.timeout.nanoseconds / 1_000_000_000)))
        }
        let request = endpoint.request(connection: index, user: user)
        let closeMode = closeMode
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTPRequestEncoder())
                    try sync.addHandler(ChurnConnectionHandler(request: request, closeMode: closeMode, done: done))
                }
            }
        if !sources.isEmpty {
            // The port is chosen at connect(2), per destination, not at bind(2): otherwise the kernel
            // searches for a port no TIME_WAIT socket holds, which gets slow once a run has left
            // tens of thousands of them.
            bootstrap = bootstrap
                .channelOption(.socket(SocketOptionLevel(IPPROTO_IP), SocketOptionName(Self.bindAddressNoPort)), value: 1)
                .bind(to: sources[index % sources.count])
        }
        let connected = bootstrap.connect(to: endpoint.address)
        connected.whenFailure { done.fail($0) }
        return done.futureResult.map { connectedAt in
            timer.cancel()
            recorder.recordConnected(startedAt: startedAt, at: connectedAt)
            return true
        }.recover { error in
            timer.cancel()
            recorder.recordFailure(error)
            // A connection still open (it timed out) is closed here.
            connected.whenSuccess { $0.close(promise: nil) }
            return false
        }
    }

    /// Everything recorded so far over all loops.
    func totals() async -> ChurnTotals {
        var total = ChurnTotals()
        for recorder in recorders {
            if let part = try? await recorder.eventLoop.submit({ recorder.snapshot }).get() {
                total.add(part)
            }
        }
        return total
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}
