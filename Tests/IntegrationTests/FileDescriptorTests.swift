import Foundation
import SSEClient
import Testing

/// A node at its file-descriptor limit neither spins, nor runs out (the runtime aborts a process that
/// cannot open `/proc/<thread>/stat`), nor stops for good: it pauses accepting while a reserve is left,
/// says why (once in a while), and serves again when connections close.
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
        try await TestEnvironment.eventually("the node saying it stopped accepting") { node.log.contains("as many as the file descriptors allow") }

        // Accepting failing again and again at once would keep its one event loop busy: a whole core.
        let before = node.cpuTime
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(3))  // the span the CPU time is measured over
        let used = node.cpuTime - before
        let elapsed = ContinuousClock.now - started
        #expect(used < elapsed / 4, "the node used \(used) of CPU in \(elapsed) while out of descriptors")
        #expect(node.log.components(separatedBy: "cannot accept connections").count - 1 == 1, "the warning is rate-limited")
        #expect(!node.log.contains("EMFILE"), "the node ran out of descriptors")

        for client in clients { await client.close() }
        let health = try await HTTPClient().request("GET", "http://127.0.0.1:\(node.port)/healthz")
        #expect(health.status == 200)
        let stream = try await SSEStream.connect("http://127.0.0.1:\(node.port)/events?user=u")
        #expect(try await stream.next()?.event == "connected")
        await stream.close()
    }
}
