import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP relay in front of a server, for one node: cutting it makes that server unreachable for that
/// node alone (every relayed connection is closed and new ones are refused), opening it again on the
/// same port brings the server back.
final class TCPRelay: Sendable {
    private let target: SocketAddress
    private let state = NIOLockedValueBox((port: 0, listener: Channel?.none, relayed: [Channel]()))

    private init(target: SocketAddress) {
        self.target = target
    }

    /// A relay to `host:port`, open.
    static func start(to host: String, port: Int) async throws -> TCPRelay {
        let relay = TCPRelay(target: try SocketAddress(ipAddress: host, port: port))
        try await relay.open()
        return relay
    }

    var port: Int { state.withLockedValue { $0.port } }

    /// Accepts connections again, on the port it had (a free one the first time).
    func open() async throws {
        let target = self.target
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] inbound in
                ClientBootstrap(group: inbound.eventLoop).connect(to: target).flatMap { outbound in
                    self.state.withLockedValue { $0.relayed += [inbound, outbound] }
                    return inbound.pipeline.addHandler(Forwarder(to: outbound)).flatMap {
                        outbound.pipeline.addHandler(Forwarder(to: inbound))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        state.withLockedValue {
            $0.port = listener.localAddress?.port ?? 0
            $0.listener = listener
        }
    }

    /// Closes every relayed connection and stops accepting new ones.
    func cut() async {
        let (listener, relayed) = state.withLockedValue { state in
            defer { state.listener = nil; state.relayed = [] }
            return (state.listener, state.relayed)
        }
        try? await listener?.close()
        for channel in relayed { try? await channel.close() }
    }

    /// Copies what one side reads to the other, and closes the other when this side closes.
    private final class Forwarder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let partner: Channel

        init(to partner: Channel) {
            self.partner = partner
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner.close(promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
