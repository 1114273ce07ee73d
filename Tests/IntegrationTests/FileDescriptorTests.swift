import Foundation
import SSEClient
import Testing

/// A node out of file descriptors neither spins nor stops for good: it pauses accepting, says why
/// (once in a while), and serves again when connections close.
@Suite struct FileDescriptorTests {
    @Test func aNodeOutOfFileDescriptorsBacksOffSaysWhyAndServesAgain() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ChildNode.binary), "build sse-fanout first (swift build --build-tests)")
        // 64 descriptors, about 15 of them the node's own; connections that send nothing are kept.
        let node = try await ChildNode.start(openFiles: 64, ["--standalone", "--threads", "1", "--request-timeout", "120"])
        defer { node.stop() }
        do {
            try await starve(node)
        } catch {
            print("the child node (running: \(node.process.isRunning)) logged:\n\(node.log)")
            throw error
        }
    }

    private func starve(_ node: ChildNode) async throws {
        // More connections than descriptors: the node accepts what it can, the rest wait in its backlog.
        var clients: [RawStreamClient] = []
        for _ in 0..<100 { clients.append(try await RawStreamClient.raw(port: node.port, sending: "")) }
        try await TestEnvironment.eventually("the node saying it is out of descriptors") { node.log.contains("out of file descriptors (EMFILE") }

        // Accept failing again and again at once would keep its one event loop busy: a whole core.
        let before = node.cpuTime
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(3))  // the span the CPU time is measured over
        let used = node.cpuTime - before
        let elapsed = ContinuousClock.now - started
        #expect(used < elapsed / 4, "the node used \(used) of CPU in \(elapsed) while out of descriptors")
        #expect(node.log.components(separatedBy: "cannot accept connections").count - 1 == 1, "the warning is rate-limited")

        for client in clients { await client.close() }
        let health = try await HTTPClient().request("GET", "http://127.0.0.1:\(node.port)/healthz")
        #expect(health.status == 200)
        let stream = try await SSEStream.connect("http://127.0.0.1:\(node.port)/events?user=u")
        #expect(try await stream.next()?.event == "connected")
        await stream.close()
    }
}
