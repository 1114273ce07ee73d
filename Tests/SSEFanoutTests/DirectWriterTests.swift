#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import SSEFanout

/// A stream's writes go straight to its socket, and never overtake what waits in its channel: on a real
/// loopback connection whose client stops reading.
@Suite struct DirectWriterTests {
    /// Collects what the client reads, and says when it has a given number of bytes.
    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private struct State {
            var bytes: [UInt8] = []
            var waiting: (count: Int, promise: EventLoopPromise<Void>)?
        }
        private let state = NIOLockedValueBox(State())

        var bytes: [UInt8] { state.withLockedValue { $0.bytes } }

        /// Succeeds once `count` bytes have arrived.
        func received(_ count: Int, on loop: EventLoop) -> EventLoopFuture<Void> {
            let promise = loop.makePromise(of: Void.self)
            let arrived = state.withLockedValue { state in
                if state.bytes.count >= count { return true }
                state.waiting = (count, promise)
                return false
            }
            if arrived { promise.succeed() }
            return promise.futureResult
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            let done = state.withLockedValue { state -> EventLoopPromise<Void>? in
                state.bytes.append(contentsOf: buffer.readableBytesView)
                guard let waiting = state.waiting, state.bytes.count >= waiting.count else { return nil }
                state.waiting = nil
                return waiting.promise
            }
            done?.succeed()
        }
    }

    /// The writer and the writes handed to the channel, on the server channel's loop.
    private final class Stream: @unchecked Sendable {
        var writer: DirectWriter
        let channel: Channel

        init(_ channel: Channel) {
            self.channel = channel
            self.writer = DirectWriter()
        }

        /// Writes as `SSEConnection.write` does; returns what went to the channel (nil: all to the socket).
        func write(_ bytes: ByteBuffer) -> ByteBuffer? {
            switch writer.write(bytes, on: channel) {
            case .written:
                return nil
            case .channel(let rest, let counted):
                let promise = channel.eventLoop.makePromise(of: Void.self)
                if counted { promise.futureResult.whenComplete { _ in self.writer.completed() } }
                channel.writeAndFlush(rest, promise: promise)
                return rest
            }
        }
    }

    private struct Connection {
        let group: MultiThreadedEventLoopGroup
        let server: Channel
        let accepted: Channel
        let client: Channel
        let collector: Collector

        func close() async throws {
            try? await client.close()
            try? await server.close()
            try await group.shutdownGracefully()
        }
    }

    /// A server that accepts one connection, and a client that reads nothing until told to.
    private func connect() async throws -> Connection {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let acceptedPromise = group.next().makePromise(of: Channel.self)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                acceptedPromise.succeed(channel)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let collector = Collector()
        let client = try await ClientBootstrap(group: group)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(to: server.localAddress!).get()
        let accepted = try await acceptedPromise.futureResult.get()
        return Connection(group: group, server: server, accepted: accepted, client: client, collector: collector)
    }

    @Test func theDescriptorFoundIsTheConnectionsOwn() async throws {
        let connection = try await connect()
        let descriptor = try await connection.accepted.eventLoop.submit { ChannelDescriptor.of(connection.accepted) }.get()
        let found = try #require(descriptor)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(found, $0, &length) } }
        #expect(result == 0)
        #expect(Int(UInt16(bigEndian: address.sin_port)) == connection.client.localAddress?.port)
        try await connection.close()
    }

    @Test func whatTheSocketCannotTakeGoesThroughTheChannelAndEverythingAfterItToo() async throws {
        let large = 16 << 20
        let pattern = (0..<large).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let connection = try await connect()
        let loop = connection.accepted.eventLoop
        let stream = try await loop.submit { Stream(connection.accepted) }.get()

        // The first write goes through the channel: the channel may still hold a response head. A
        // socket with room is written at once, so the write has completed when `submit` returns.
        let first = try await loop.submit { stream.write(ByteBuffer(string: "A")) }.get()
        #expect(first != nil)
        // From now on writes go to the socket. The client reads nothing, so a large one fills the
        // socket's buffers (at most 4 MiB here) and the rest goes to the channel, and so does what
        // comes after it.
        let (rest, tail) = try await loop.submit { () -> (ByteBuffer?, ByteBuffer?) in
            (stream.write(ByteBuffer(bytes: pattern)), stream.write(ByteBuffer(string: "TAIL")))
        }.get()
        let handedOver = try #require(rest)
        #expect(handedOver.readableBytes > 0 && handedOver.readableBytes < large, "part went to the socket, part to the channel")
        #expect(tail.map { String(buffer: $0) } == "TAIL", "written after bytes waiting in the channel: through the channel, whole")

        // The client reads everything: in order, nothing lost, nothing twice.
        try await connection.client.setOption(.autoRead, value: true).get()
        connection.client.read()
        try await connection.collector.received(1 + large + 4, on: loop).get()
        // The channel has written all it held: the next write goes straight to the socket.
        let last = try await loop.submit { stream.write(ByteBuffer(string: "Z")) }.get()
        #expect(last == nil)
        try await connection.collector.received(1 + large + 4 + 1, on: loop).get()
        let received = connection.collector.bytes
        #expect(received.count == 1 + large + 4 + 1)
        #expect(received.first == UInt8(ascii: "A"))
        #expect(received[1..<(1 + large)].elementsEqual(pattern))
        #expect(String(decoding: received[(1 + large)...], as: UTF8.self) == "TAILZ")
        try await connection.close()
    }
}
