import Foundation
import NIOCore

/// Server-side handler that reads one HTTP/1.1 request (head, then a Content-Length body if any) from raw
/// bytes and reports it; later bytes are ignored. Deliberately not NIOHTTP1, so the client under test is
/// not checked against its own codec.
final class RequestReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var received: [UInt8] = []
    private var reported = false
    private let onRequest: @Sendable (ScriptedRequest) -> Void

    init(onRequest: @escaping @Sendable (ScriptedRequest) -> Void) {
        self.onRequest = onRequest
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !reported else { return }
        received += unwrapInboundIn(data).readableBytesView
        guard let request = parseRequest(channel: context.channel) else { return }
        reported = true
        onRequest(request)
    }

    private func parseRequest(channel: any Channel) -> ScriptedRequest? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headEnd = received.indices.first(where: { received[$0...].starts(with: separator) }) else {
            return nil
        }
        let lines = String(decoding: received[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        let headers = lines.dropFirst().map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = headEnd + separator.count
        guard received.count - bodyStart >= length else { return nil }
        return ScriptedRequest(
            method: String(requestLine[0]),
            target: String(requestLine[1]),
            headers: headers,
            body: Array(received[bodyStart..<bodyStart + length]),
            connection: channel
        )
    }
}
