import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import SSEFanout

/// A broadcast pass over streams on real loopback sockets, where each stream's outbox goes straight to
/// its socket and the pass lends the same emptied buffer from one stream to the next: every client
/// reads its own `id:` lines and the events, in order, and nothing of another stream's.
@Suite struct BroadcastPassTests {
    /// What one client read.
    private final class Reader: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private let state = NIOLockedValueBox((text: "", waiting: [(String, EventLoopPromise<Void>)]()))

        var text: String { state.withLockedValue { $0.text } }

        /// Succeeds once the text read so far contains `marker`.
        func read(until marker: String, on loop: EventLoop) -> EventLoopFuture<Void> {
            let promise = loop.makePromise(of: Void.self)
            let done = state.withLockedValue { state in
                if state.text.contains(marker) { return true }
                state.waiting.append((marker, promise))
                return false
            }
            if done { promise.succeed() }
            return promise.futureResult
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let chunk = String(buffer: unwrapInboundIn(data))
            let ready = state.withLockedValue { state -> [EventLoopPromise<Void>] in
                state.text += chunk
                let text = state.text
                let ready = state.waiting.filter { text.contains($0.0) }.map(\.1)
                state.waiting.removeAll { text.contains($0.0) }
                return ready
            }
            ready.forEach { $0.succeed() }
        }
    }

    @Test func eachStreamReadsItsOwnIDsAndEveryEventInOrder() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let accepted = NIOLockedValueBox<[Channel]>([])
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        var clients: [(Channel, Reader)] = []
        for _ in 0..<3 {
            let reader = Reader()
            let client = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) }
                }
                .connect(to: server.localAddress!).get()
            clients.append((client, reader))
        }
        try await loop.submit {}.get()
        // Accepted in the order the clients connected: one loop accepts them one after another.
        let channels = accepted.withLockedValue { $0 }
        #expect(channels.count == 3)
        let logger = Logger(label: "test-broadcast")
        let start = StreamPosition(milliseconds: 1_700_000_000_000)
        let users = ["ann", "bob", "cy"]

        let shard = HubShard(eventLoop: loop, logger: logger)
        try await loop.submit {
            for (index, channel) in channels.enumerated() {
                let record = ConnectionRecord(
                    connectionID: "c\(index)", nodeID: "n1", connectedAt: 0, addresses: ConnectionRecord.addresses(user: users[index], channels: []))
                let connection = SSEConnection(
                    record: record, channel: channel, token: ResumeToken(streams: record.streams, at: start), resumedFrom: ResumeToken())
                connection.activate(connected: SSEEncoder.comment("hello \(users[index])"), reset: nil, advancing: [], logger: logger)
                shard.add(connection)
            }
            // Passes one after another, each a broadcast of one event, the last a longer one: the lent
            // buffer grows, then serves the shorter outboxes again.
            for sequence in 1...4 {
                let data = sequence == 3 ? String(repeating: "x", count: 3000) : "event \(sequence)"
                let position = StreamPosition(milliseconds: start.milliseconds, sequence: UInt64(sequence))
                shard.deliver([OutboundEvent(Publication(target: .broadcast, data: .text(data), id: "e\(sequence)", position: position))])
            }
        }.get()

        for (index, (_, reader)) in clients.enumerated() {
            try await reader.read(until: "data: event 4\n\n", on: loop).get()
            let blocks = reader.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(blocks.first?.hasSuffix(": hello \(users[index])") == true, "client \(index) read: \(blocks.first ?? "")")
            let events = Array(blocks.dropFirst())
            #expect(events.count == 4, "client \(index): \(events.count) events")
            for (offset, block) in events.enumerated() {
                let sequence = offset + 1
                let lines = block.components(separatedBy: "\n")
                let data = sequence == 3 ? String(repeating: "x", count: 3000) : "event \(sequence)"
                #expect(lines.first?.hasPrefix("id: 1.") == true)
                #expect(lines.first?.hasSuffix("b~\(String(start.milliseconds, radix: 36))-\(sequence)") == true, "client \(index): \(lines.first ?? "")")
                #expect(Array(lines.dropFirst()) == ["event: message", "data: \(data)"] || lines.dropFirst().contains("data: \(data)"))
                #expect(!block.contains("hello"), "a greeting in an event of client \(index)")
            }
        }
        for (client, _) in clients { try? await client.close() }
        try? await server.close()
        try await group.shutdownGracefully()
    }
}
