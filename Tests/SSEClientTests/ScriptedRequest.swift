import NIOCore

/// A request received by `ScriptedHTTPServer`; the test answers it with raw bytes on its connection,
/// so the response framing is exactly what the test writes.
struct ScriptedRequest: Sendable {
    let method: String
    let target: String
    let headers: [(String, String)]
    let body: [UInt8]
    let connection: any Channel

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    func send(_ text: String) async throws {
        try await connection.writeAndFlush(connection.allocator.buffer(string: text))
    }

    func close() async throws {
        try await connection.close()
    }

    /// Returns once the connection is closed, by either side.
    func waitForClose() async {
        try? await connection.closeFuture.get()
    }
}
