import NIOCore
import NIOHTTP1
import NIOPosix

/// Opens one HTTP/1.1 connection per call, entirely on a SwiftNIO event loop (no thread per connection).
enum HTTPConnector {
    /// Fired into the pipeline of the connection that won the connect, telling its handler to send the
    /// request. Happy Eyeballs may open a second connection to a host name and then close it; its handler
    /// never gets this event, so it neither sends the request nor reports on the shared promise.
    struct StartRequest: Sendable {}

    /// Connects to `url`, installs the HTTP/1 client codec and the handler made by `makeHandler`, tells the
    /// handler to start with `StartRequest`, and waits until it completes the promise it was given.
    /// Connecting and waiting together are bounded by `timeout` (then `SSEClientError.timeout`); on any
    /// failure, including task cancellation, the connection is closed. Returns the channel, still open
    /// unless the handler closed it, and the value.
    static func exchange<Value: Sendable>(
        url: HTTPURL,
        group: any EventLoopGroup,
        timeout: Duration,
        makeHandler: @escaping @Sendable (EventLoopPromise<Value>) -> any ChannelHandler
    ) async throws -> (channel: any Channel, value: Value) {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: Value.self)
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(SSEClientError.timeout)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }

        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(makeHandler(promise))
                }
            }
        // An IP literal needs no resolver round trip, which matters when opening thousands of connections.
        let connected: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: url.host, port: url.port) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: url.host, port: url.port)
        }
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                // Runs at once if the exchange already timed out or was cancelled; the request written
                // below then goes nowhere, as the channel is closed.
                promise.futureResult.whenFailure { _ in channel.close(promise: nil) }
                channel.pipeline.fireUserInboundEventTriggered(StartRequest())
            case .failure(ChannelError.connectTimeout):
                promise.fail(SSEClientError.timeout)
            case .failure(let error):
                promise.fail(error)
            }
        }

        let value = try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
        // The handler completed the promise on this connection, so it has connected.
        return (try await connected.get(), value)
    }
}
